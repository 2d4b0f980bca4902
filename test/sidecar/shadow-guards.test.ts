// Shadow copies are bound by what binds the call they copy: only served calls are mirrored, the shadow
// provider's limits apply (a copy that does not fit is skipped, never queued), its cost is charged to
// the call's budgets, and the providerTags of the route the call matched still hold after a redirect.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as manifest from '../helpers/manifests.ts';
import type { TurnoutProcess } from '../helpers/turnout-process.ts';
import { budgetUsedUSD } from './budget-metrics.ts';
import { chat, sharedHarness } from './harness.ts';
import { providersYaml } from './manifests.ts';

const h = sharedHarness();

/** Providers with extra spec lines for the secondary (the shadow target in these tests). */
const providers = (secondaryExtra = '', primaryExtra = 'circuitBreaker: { consecutiveFailures: 1000 }') =>
  providersYaml(h.primary.url, h.secondary.url, primaryExtra).replace(
    '  type: openai-compatible\n',
    `  type: openai-compatible\n  ${secondaryExtra}\n`,
  );
const mirrored = (budgets = '') =>
  manifest.routingPolicy(
    `
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      shadow: { provider: secondary, model: backup-model, percent: 100 }`,
    budgets,
  );

const content = (text: string) => ({ messages: [{ role: 'user', content: text }] });
const shadowLines = (t: TurnoutProcess) =>
  t
    .output()
    .split('\n')
    .filter((l) => l.includes('(shadow)'));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), `timed out waiting until ${what}`);
}

describe('shadow copies', () => {
  it('are sent only for calls an upstream served: not for budget refusals, not for failed calls', async () => {
    const budget = '  budgets:\n    - { name: t, limitUSD: 0.000001, window: day, scope: "header:x-tenant" }';
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': mirrored(budget) });
    for (let i = 0; i < 3; i++) {
      const refused = await chat(t.url, content(`refused ${i}`), { 'x-tenant': 'acme' });
      assert.equal(refused.status, 429);
    }
    h.primary.onNext({ kind: 'status', status: 503 });
    assert.equal((await chat(t.url, content('failed'))).status, 502);
    assert.equal((await chat(t.url, content('served'))).status, 200);
    const copy = await h.secondary.waitFor(() => true);
    assert.deepEqual((copy.body as { messages?: unknown }).messages, [{ role: 'user', content: 'served' }]);
    await t.waitForLine(/\(shadow\) secondary\/backup-model ✓200/);
    assert.equal(h.secondary.count, 1, 'the refused and the failed calls were not mirrored');
  });

  it('skip a copy the shadow provider’s requestsPerMinute has no room for', async () => {
    const t = await h.run({
      'p.yaml': providers('limits: { requestsPerMinute: 1 }'),
      'r.yaml': mirrored(),
    });
    for (let i = 0; i < 3; i++) assert.equal((await chat(t.url, content(`q${i}`))).status, 200);
    await until(() => shadowLines(t).length === 3, 'three shadow decisions');
    assert.equal(h.secondary.count, 1);
    const skipped = shadowLines(t).filter((l) => /error=shadow_skipped/.test(l));
    assert.equal(skipped.length, 2);
    assert.match(skipped[0] ?? '', /skipped\[secondary\/backup-model: provider rpm limit reached\]/);
  });

  it('skip a copy beyond the shadow provider’s maxConcurrent, and the callers never wait for copies', async () => {
    const t = await h.run({ 'p.yaml': providers('limits: { maxConcurrent: 1 }'), 'r.yaml': mirrored() });
    h.secondary.setDefault({ kind: 'ok', delayMs: 1500 });
    const answers = await Promise.all([0, 1, 2].map((i) => chat(t.url, content(`c${i}`))));
    assert.deepEqual(
      answers.map((r) => r.headers.get('x-turnout-provider')),
      ['primary', 'primary', 'primary'],
    );
    await until(() => shadowLines(t).length === 2, 'two skipped copies');
    assert.ok(shadowLines(t).every((l) => /provider at maxConcurrent \(1\).*error=shadow_skipped/.test(l)));
    await until(() => shadowLines(t).length === 3, 'the one copy sent to come back');
    assert.equal(h.secondary.count, 1);
  });

  it('are charged to the budgets the call was admitted under, and skipped when those cannot afford them', async () => {
    // The copy costs $0.1 (1M prompt tokens at $0.1/1M); the call itself about $0.0001.
    const budget = '  budgets:\n    - { name: daily, limitUSD: 1, window: day, scope: policy }';
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': mirrored(budget) });
    h.secondary.setDefault({ kind: 'ok', usage: { promptTokens: 1_000_000, completionTokens: 0 } });
    assert.equal((await chat(t.url)).status, 200);
    await t.waitForLine(/\(shadow\) secondary\/backup-model ✓200 .* \$0\.100000/);
    const used = await budgetUsedUSD(t.url, 'daily');
    assert.ok(used > 0.1 && used < 0.101, `used $${used}: the call and its copy`);

    // A copy whose worst case ($0.02: 1000 output tokens at $20/1M) is more than the budget has left.
    const dear = await h.run({
      'p.yaml': providers().replace(
        'pricing: { input: 0.1, output: 0.2 }',
        'pricing: { input: 0.1, output: 20 }',
      ),
      'r.yaml': mirrored('  budgets:\n    - { name: daily, limitUSD: 0.0101, window: day, scope: policy }'),
    });
    assert.equal((await chat(dear.url, { max_tokens: 1000 })).status, 200);
    await dear.waitForLine(/\(shadow\) .*skipped\[secondary\/backup-model: budget: .*error=shadow_skipped/);
    assert.equal(h.secondary.count, 1, 'only the first process’s copy went out');
  });

  it('of a call a budget redirected keep the providerTags of the route it matched', async () => {
    const policy = manifest.routingPolicy(
      `
    - name: phi
      match: { model: ["smart"], tags: { sensitivity: phi } }
      targets: [{ provider: primary, model: gpt-4o }]
      constraints: { providerTags: { hipaa: "true" } }
    - name: cheap
      match: { model: ["cheap"] }
      targets: [{ provider: primary, model: gpt-4o }]
      shadow: { provider: secondary, model: backup-model, percent: 100 }`,
      '  budgets:\n    - { name: daily, limitUSD: 0.005, window: day, scope: policy, action: "route:cheap" }',
    );
    const t = await h.run({
      'p.yaml': providers('', 'tags: { hipaa: "true" }'),
      'r.yaml': policy,
    });
    // max_tokens 1000 may cost $0.01, more than the budget: every such call moves to route cheap.
    const phi = await chat(
      t.url,
      { ...content('patient record'), max_tokens: 1000 },
      {
        'x-turnout-tags': 'sensitivity=phi',
      },
    );
    assert.equal(phi.headers.get('x-turnout-route'), 'cheap');
    assert.equal(phi.headers.get('x-turnout-provider'), 'primary');
    await t.waitForLine(/\(shadow\) .*skipped\[secondary\/backup-model: constraint: .*error=shadow_skipped/);
    assert.equal((await chat(t.url, { ...content('public'), model: 'cheap' })).status, 200);
    const copy = await h.secondary.waitFor(() => true);
    assert.deepEqual((copy.body as { messages?: unknown }).messages, [{ role: 'user', content: 'public' }]);
    assert.equal(h.secondary.count, 1, 'the phi call was never mirrored to the untagged provider');
  });
});
