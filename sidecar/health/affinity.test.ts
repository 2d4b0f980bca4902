import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AffinityStore } from './affinity.ts';

describe('AffinityStore', () => {
  it('pins a session per route until forgotten', () => {
    const s = new AffinityStore();
    s.set('ns/p/smart', 'sess-1', 'openai/gpt-4o', 60_000);
    assert.equal(s.get('ns/p/smart', 'sess-1'), 'openai/gpt-4o');
    assert.equal(s.get('ns/p/other', 'sess-1'), undefined, 'per route');
    assert.equal(s.get('ns/p/smart', 'sess-2'), undefined);
    s.forget('ns/p/smart', 'sess-1');
    assert.equal(s.get('ns/p/smart', 'sess-1'), undefined);
  });

  it('expires a pin ttlMs after it was last set (a test clock may start at 0)', () => {
    let t = 0;
    const s = new AffinityStore({ now: () => t });
    s.set('r', 'sess', 'a', 1_000);
    t = 900;
    assert.equal(s.get('r', 'sess'), 'a');
    s.set('r', 'sess', 'a', 1_000); // the next successful turn re-pins
    t = 1_800;
    assert.equal(s.get('r', 'sess'), 'a');
    t = 1_901;
    assert.equal(s.get('r', 'sess'), undefined);
    s.set('r', 'sess', 'a', 0);
    assert.equal(s.get('r', 'sess'), undefined, 'ttl 0 pins nothing');
  });

  it('re-pinning to another target replaces the pin', () => {
    const s = new AffinityStore();
    s.set('r', 'sess', 'a', 1_000);
    s.set('r', 'sess', 'b', 1_000);
    assert.equal(s.get('r', 'sess'), 'b');
  });

  it('holds at most maxEntries pins, evicting the least recently used', () => {
    const s = new AffinityStore({ maxEntries: 1_000 });
    s.set('r', 'keep', 'a', 60_000);
    for (let i = 0; i < 10_000; i++) {
      s.set('r', `s${i}`, 'a', 60_000);
      if (i % 100 === 0) s.get('r', 'keep');
    }
    assert.equal(s.size, 1_000);
    assert.equal(s.get('r', 's0'), undefined);
    assert.equal(s.get('r', 'keep'), 'a', 'recently used survives');
    assert.equal(new AffinityStore().size, 0);
  });

  it('defaults to 100k pins', () => {
    const s = new AffinityStore();
    for (let i = 0; i < 100_100; i++) s.set('r', `s${i}`, 'a', 60_000);
    assert.equal(s.size, 100_000);
  });

  it('hashes very long session ids without mixing them up', () => {
    const s = new AffinityStore();
    const long = 'x'.repeat(10_000);
    s.set('r', `${long}1`, 'a', 1_000);
    s.set('r', `${long}2`, 'b', 1_000);
    assert.equal(s.get('r', `${long}1`), 'a');
    assert.equal(s.get('r', `${long}2`), 'b');
  });
});
