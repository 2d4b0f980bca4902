import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { skipReason } from '../telemetry/skip-reasons.ts';
import { CooldownStore, MAX_COOLDOWN_MS, honouredDelayMs, startsCooldown } from './cooldown.ts';

const GPT = { provider: 'oa', endpoint: 'https://api.example', model: 'gpt-a' };

function clockedStore(start = 1_000_000) {
  const clock = { now: start };
  return { clock, store: new CooldownStore({ now: () => clock.now }) };
}

describe('CooldownStore', () => {
  it('keeps a target cooling until its Retry-After, then lets go of it', () => {
    const { clock, store } = clockedStore();
    assert.equal(store.coolDown(GPT, 2000), clock.now + 2000);
    clock.now += 1999;
    assert.equal(store.until(GPT), clock.now + 1);
    clock.now += 1;
    assert.equal(store.until(GPT), undefined);
    assert.equal(store.size, 0, 'an expired entry is dropped when read');
  });

  it('scopes a cool-down to provider, endpoint and model', () => {
    const { store } = clockedStore();
    store.coolDown(GPT, 5000);
    assert.equal(store.until({ ...GPT, model: 'gpt-b' }), undefined, 'another model of the provider');
    assert.equal(store.until({ ...GPT, provider: 'other' }), undefined, 'another provider');
    assert.equal(store.until({ ...GPT, endpoint: 'https://elsewhere' }), undefined, 'another endpoint');
    assert.notEqual(store.until(GPT), undefined);
  });

  it('caps the honoured delay at MAX_COOLDOWN_MS', () => {
    const { clock, store } = clockedStore();
    assert.equal(store.coolDown(GPT, 86_400_000), clock.now + MAX_COOLDOWN_MS);
    clock.now += MAX_COOLDOWN_MS;
    assert.equal(store.until(GPT), undefined);
    assert.equal(honouredDelayMs(86_400_000), 60_000);
    assert.equal(honouredDelayMs(-5), 0);
  });

  it('a shorter Retry-After does not cut a longer cool-down already running', () => {
    const { clock, store } = clockedStore();
    const long = store.coolDown(GPT, 10_000);
    assert.equal(store.coolDown(GPT, 1000), long);
    clock.now += 5000;
    assert.equal(store.until(GPT), long);
    assert.equal(store.coolDown(GPT, 20_000), clock.now + 20_000, 'a longer one extends it');
  });

  it('sweeps expired entries when another is added, so targets never read again do not pile up', () => {
    const { clock, store } = clockedStore();
    store.coolDown(GPT, 1000);
    store.coolDown({ ...GPT, model: 'gpt-b' }, 1000);
    clock.now += 1000;
    store.coolDown({ ...GPT, model: 'gpt-c' }, 1000);
    assert.equal(store.size, 1);
  });

  it('retain drops the targets a reload removed and keeps the others cooling', () => {
    const { store } = clockedStore();
    store.coolDown(GPT, 5000);
    store.coolDown({ ...GPT, model: 'gpt-b' }, 5000);
    store.coolDown({ provider: 'gone', endpoint: undefined, model: 'm' }, 5000);
    store.coolDown({ provider: 'moved', endpoint: 'https://old', model: 'm' }, 5000);
    store.retain([
      { provider: 'oa', endpoint: 'https://api.example', models: ['gpt-a'] },
      { provider: 'moved', endpoint: 'https://new', models: ['m'] },
    ]);
    assert.equal(store.size, 1);
    assert.notEqual(store.until(GPT), undefined);
  });
});

describe('which answers start a cool-down', () => {
  it('a 429 or 503 with a Retry-After; nothing else', () => {
    assert.equal(startsCooldown(429, 2000), true);
    assert.equal(startsCooldown(503, 2000), true);
    assert.equal(startsCooldown(429, undefined), false, 'a 429 without Retry-After: breaker and backoff');
    assert.equal(startsCooldown(429, 0), false);
    assert.equal(startsCooldown(500, 2000), false);
    assert.equal(startsCooldown(undefined, 2000), false, 'a local rate limit is not an upstream answer');
  });

  it('the skip it causes has its own reason class', () => {
    const reason = 'cooling down until 2026-01-01T00:00:00.000Z: it answered 429/503 with Retry-After';
    assert.equal(skipReason(reason), 'cooling-down');
  });
});
