// A budget's route:<name> redirect moves a call, not its constraints: the providerTags of the route it
// matched still decide where it may go, and its answer is cached under the route that served it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as manifest from '../helpers/manifests.ts';
import { chat, sharedHarness } from './harness.ts';
import { providersYaml } from './manifests.ts';

const h = sharedHarness();

// primary is the HIPAA provider; secondary is not. Route cheap prefers secondary, and also serves
// untagged "smart" calls. A call that may cost more than $0.005 (max_tokens 1000 ≈ $0.01) is over
// budget and moves from phi to cheap.
const policy = (cache = '') =>
  manifest.routingPolicy(
    `
    - name: phi
      match: { model: ["smart"], tags: { sensitivity: phi } }
      targets: [{ provider: primary, model: gpt-4o }]
      constraints: { providerTags: { hipaa: "true" } }
${cache}
    - name: cheap
      match: { model: ["smart", "cheap"] }
      targets: [{ provider: secondary, model: backup-model }, { provider: primary, model: gpt-4o }]
${cache}`,
    '  budgets:\n    - { name: daily, limitUSD: 0.005, window: day, scope: policy, action: "route:cheap" }',
  );
const providers = () =>
  providersYaml(
    h.primary.url,
    h.secondary.url,
    'tags: { hipaa: "true" }\n  circuitBreaker: { consecutiveFailures: 1000 }',
  );
const phi = { 'x-turnout-tags': 'sensitivity=phi' };
const question = { messages: [{ role: 'user', content: 'patient Jane Roe, diagnosis?' }], max_tokens: 1000 };

describe('budget redirects', () => {
  it('keep the providerTags of the route the call matched: the untagged target is skipped', async () => {
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': policy() });
    const res = await chat(t.url, question, phi);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-route'), 'cheap');
    assert.equal(res.headers.get('x-turnout-provider'), 'primary');
    assert.equal(h.secondary.count, 0, 'the untagged provider never saw the PHI request');
    await t.waitForLine(
      /skipped\[secondary\/backup-model: constraint: provider tags of the route the call was redirected from/,
    );
    const open = await chat(t.url, { ...question, model: 'cheap' });
    assert.equal(open.headers.get('x-turnout-provider'), 'secondary', 'cheap’s own calls still use it');
  });

  it('cache the answer under the route that served it, not the one the call matched', async () => {
    const t = await h.run({
      'p.yaml': providers(),
      'r.yaml': policy('      cache: { ttl: 10m, maxEntries: 100 }'),
    });
    const first = await chat(t.url, question, phi);
    assert.equal(first.headers.get('x-turnout-route'), 'cheap');
    const answer = await first.text();
    // The same request without the phi tag matches cheap itself: the stored answer is found there.
    const viaCheap = await chat(t.url, question);
    assert.equal(viaCheap.headers.get('x-turnout-route'), 'cheap');
    assert.equal(viaCheap.headers.get('x-turnout-cache'), 'hit');
    assert.equal(await viaCheap.text(), answer);
    // phi's own cache never received it: the next phi call goes upstream (and is redirected again).
    const again = await chat(t.url, question, phi);
    assert.equal(again.headers.get('x-turnout-cache'), null);
    assert.equal(h.primary.count, 2);
  });
});
