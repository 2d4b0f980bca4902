// What makes two requests the same for the response cache: for Anthropic callers, the body they sent
// (fields the OpenAI form drops change the answer an Anthropic upstream gives); across reloads, what the
// route answers with — an unrelated policy edit keeps cached answers, a change of targets does not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';
import { providersYaml } from './manifests.ts';

let openai: FakeProvider;
let spare: FakeProvider;
let anthropic: FakeProvider;
const started: TurnoutProcess[] = [];
const dirs: { remove: () => Promise<void> }[] = [];

before(async () => {
  openai = await startFakeProvider({ dialect: 'openai' });
  spare = await startFakeProvider({ dialect: 'openai' });
  anthropic = await startFakeProvider({ dialect: 'anthropic' });
});
after(async () => {
  for (const t of started) await t.stop();
  for (const d of dirs) await d.remove();
  await openai.close();
  await spare.close();
  await anthropic.close();
});

async function run(files: Record<string, string>) {
  const config = await configDir(files);
  dirs.push(config);
  const turnout = await startTurnout(['dev', '--config', config.dir, '--listen', '127.0.0.1:0']);
  started.push(turnout);
  await turnout.waitForLine(/loaded snapshot/);
  return { config, turnout };
}

/** Writes a manifest and waits until the sidecar has loaded the snapshot it makes. */
async function reload(r: Awaited<ReturnType<typeof run>>, file: string, content: string): Promise<void> {
  const loads = () => r.turnout.output().match(/loaded snapshot/g)?.length ?? 0;
  const before = loads();
  await r.config.write(file, content);
  for (let i = 0; i < 100 && loads() === before; i++) await new Promise((res) => setTimeout(res, 50));
  assert.ok(loads() > before, `the edit of ${file} was loaded`);
}

describe('response cache keys', () => {
  it('for Anthropic callers, include the Anthropic-only fields an Anthropic upstream receives', async () => {
    const { turnout } = await run({
      'p.yaml': `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { k: sk-ant-test-0123456789 }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: claude, namespace: t }
spec:
  type: anthropic
  endpoint: ${anthropic.url}
  auth: { secretRef: { name: keys, key: k } }
  models:
    - { name: claude-sonnet-4-5, pricing: { input: 3, output: 15 }, capabilities: [chat, streaming, tools, json] }
`,
      'r.yaml': `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: claude
      match: { model: ["claude*"] }
      targets: [{ provider: claude, model: claude-sonnet-4-5 }]
      cache: { ttl: 10m, maxEntries: 100 }
`,
    });
    const send = async (extra: Record<string, unknown>) => {
      const res = await fetch(`${turnout.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 2048,
          messages: [{ role: 'user', content: 'prove it' }],
          ...extra,
        }),
      });
      await res.text();
      return res.headers.get('x-turnout-cache');
    };
    assert.equal(await send({ thinking: { type: 'enabled', budget_tokens: 1024 }, top_k: 5 }), null);
    assert.equal(await send({}), null, 'without thinking and top_k it is another request');
    assert.equal(await send({ top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 } }), 'hit');
    assert.equal(await send({ top_k: 6, thinking: { type: 'enabled', budget_tokens: 1024 } }), null);
    assert.equal(anthropic.count, 3);
  });

  it('survive a reload that leaves the route alone, and miss once its targets change', async () => {
    const policies = (otherLimit: number, target = 'provider: primary, model: gpt-4o') => `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: smart
      match: { model: ["smart"] }
      targets: [{ ${target} }]
      cache: { ttl: 10m, maxEntries: 100 }
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: other, namespace: t }
spec:
  routes:
    - name: x
      match: { model: ["other"] }
      targets: [{ provider: secondary, model: backup-model }]
  budgets:
    - { name: d, limitUSD: ${otherLimit}, window: day }`;
    const r = await run({ 'p.yaml': providersYaml(openai.url, spare.url), 'r.yaml': policies(5) });
    const ask = async () => {
      const res = await fetch(`${r.turnout.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'cache me' }] }),
      });
      await res.text();
      return [res.headers.get('x-turnout-cache'), res.headers.get('x-turnout-provider')];
    };
    assert.deepEqual(await ask(), [null, 'primary']);
    assert.deepEqual(await ask(), ['hit', 'primary']);

    await reload(r, 'r.yaml', policies(6));
    assert.deepEqual(await ask(), ['hit', 'primary'], 'another policy’s budget changed: still cached');

    await reload(r, 'r.yaml', policies(6, 'provider: secondary, model: backup-model'));
    assert.deepEqual(await ask(), [null, 'secondary'], 'the route’s target changed: asked again');
    assert.equal(openai.count, 1);
    assert.equal(spare.count, 1);
  });
});
