// A snapshot reload lets go of the response caches it made useless: those of routes it removed, of
// routes that no longer cache, and of routes whose answers it changed (their stored answers can never be
// hit again). The cache of a route it left alone is kept, hits included. In process, so the sidecar's
// cache registry can be counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSidecarState } from '../../sidecar/runtime-state.ts';
import * as manifest from '../helpers/manifests.ts';
import { chat } from './harness.ts';
import { PRIMARY_KEY, providersYaml } from './manifests.ts';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';

const state = createSidecarState();
let s: InProcess;
before(async () => {
  s = await inProcessSidecar({ state });
});
after(() => s.close());

const CACHE = '      cache: { ttl: 10m, maxEntries: 100 }';
const route = (name: string, target = 'provider: primary, model: gpt-4o', cache = CACHE) => `
    - name: ${name}
      match: { model: ["${name}"] }
      targets: [{ ${target} }]
${cache}`;

async function load(...routes: string[]): Promise<void> {
  await s.load({
    'p.yaml': providersYaml(s.primary.url, s.secondary.url),
    'r.yaml': manifest.routingPolicy(routes.join('')),
  });
}

/** Asks for `model` and says whether the answer came from the cache. */
async function cacheHit(model: string): Promise<boolean> {
  const res = await chat(s.url, { model, messages: [{ role: 'user', content: 'cache me' }] });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return res.headers.get('x-turnout-cache') === 'hit';
}

describe('response caches across snapshot reloads', () => {
  it('are dropped for removed, uncached and retargeted routes, and kept for a route left alone', async () => {
    await load(route('kept'), route('removed'), route('uncached'), route('retargeted'));
    for (const model of ['kept', 'removed', 'uncached', 'retargeted']) {
      assert.equal(await cacheHit(model), false, `${model}: first call goes upstream`);
      assert.equal(await cacheHit(model), true, `${model}: second call is served from the cache`);
    }
    assert.equal(state.caches.size, 4);
    assert.equal(state.caches.entries, 4);

    await load(
      route('kept'),
      route('uncached', undefined, ''),
      route('retargeted', 'provider: secondary, model: backup-model'),
    );
    assert.equal(state.caches.size, 1, 'only the cache of the route left alone is held');
    assert.equal(state.caches.entries, 1);
    assert.equal(await cacheHit('kept'), true, 'the kept route still answers from its cache');
    assert.equal(await cacheHit('retargeted'), false);
    assert.equal(await cacheHit('uncached'), false);
    assert.equal(s.primary.count, 5, 'four first calls, and the uncached route’s call after the reload');
    assert.equal(s.secondary.count, 1);
    assert.equal(state.caches.size, 2, 'kept, and retargeted’s new cache');
  });
});

describe('circuit breakers across snapshot reloads', () => {
  it('are dropped for providers the reload removed, and kept for the others', async () => {
    await load(
      route('to-primary', undefined, ''),
      route('to-secondary', 'provider: secondary, model: backup-model', ''),
    );
    await cacheHit('to-primary');
    await cacheHit('to-secondary');
    const before = state.breakers.report().map((b) => b.provider);
    assert.ok(before.includes('primary') && before.includes('secondary'), before.join(','));
    await s.load({
      'p.yaml': manifest.file(
        manifest.secret({ primary: PRIMARY_KEY }),
        manifest.modelProvider({
          name: 'primary',
          type: 'openai',
          endpoint: s.primary.url,
          key: 'primary',
          models: '[{ name: gpt-4o, pricing: { input: 2.5, output: 10 } }]',
        }),
      ),
      'r.yaml': manifest.routingPolicy(route('to-primary', undefined, '')),
    });
    assert.deepEqual(
      state.breakers.report().map((b) => b.provider),
      ['primary'],
    );
  });
});
