// Header-scoped budgets name their scope with the caller's header value: in /metrics labels and in the
// budget refusal the decision log and spans carry. A value that looks like a secret is redacted, a long
// one is cut (both keep a short hash, so callers stay apart); credential headers cannot be scopes at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chat } from './harness.ts';
import { providersYaml } from './manifests.ts';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';

let s: InProcess;
before(async () => {
  s = await inProcessSidecar();
});
after(() => s.close());

const policy = (scope: string) => `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
  budgets:
    - { name: per-tenant, limitUSD: 0.01, window: day, scope: "${scope}", action: reject }
`;

const SECRET = 'Bearer sk-proj-CALLERSECRET1234567890';
const LONG = 'T'.repeat(3000);

async function call(tenant: string, maxTokens = 20) {
  const res = await chat(s.url, { max_tokens: maxTokens }, { 'x-tenant': tenant });
  await res.text();
  return res.status;
}

describe('budget scope labels', () => {
  it('a credential header cannot be a budget scope', async () => {
    await assert.rejects(
      s.load({
        'p.yaml': providersYaml(s.primary.url, s.secondary.url),
        'r.yaml': policy('header:authorization'),
      }),
      /scope must not be a header that carries a credential/,
    );
  });

  it('/metrics shows scopes redacted and cut; the refusal message too', async () => {
    await s.load({
      'p.yaml': providersYaml(s.primary.url, s.secondary.url),
      'r.yaml': policy('header:x-tenant'),
    });
    assert.equal(await call('acme'), 200);
    assert.equal(await call(SECRET), 200);
    assert.equal(await call(LONG), 200);
    // Its output cap alone costs more than the budget: refused, the scope quoted in the message.
    assert.equal(await call(LONG, 100_000), 429);
    s.sidecar.settle();

    const metrics = await s.sidecar.metrics.registry.metrics();
    const scopes = [...metrics.matchAll(/^turnout_budget_used_usd\{[^}]*scope="([^"]*)"/gm)].map((m) => m[1]);
    assert.equal(scopes.length, 3, metrics);
    assert.ok(scopes.includes('header:x-tenant=acme'));
    assert.ok(
      scopes.some((x) => /^header:x-tenant=[^#]*\[REDACTED\]#[0-9a-f]{16}$/.test(x ?? '')),
      scopes.join(' '),
    );
    assert.ok(
      scopes.some((x) => /^header:x-tenant=T{64}…#[0-9a-f]{16}$/.test(x ?? '')),
      scopes.join(' '),
    );
    assert.ok(!metrics.includes('CALLERSECRET'), 'the secret is not in /metrics');
    assert.ok(!metrics.includes('T'.repeat(65)), 'the long value is not in /metrics whole');

    const refused = s.decisions.find((d) => d.status === 429);
    assert.equal(refused?.errorCode, 'budget_exceeded');
    assert.match(refused?.errorMessage ?? '', /for header:x-tenant=T{64}…#[0-9a-f]{16}/);
    assert.ok(!(refused?.errorMessage ?? '').includes('T'.repeat(65)));
  });
});
