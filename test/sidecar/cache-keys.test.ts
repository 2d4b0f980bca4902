// What makes two requests the same for the response cache: for Anthropic callers, the body they sent
// (fields the OpenAI form drops change the answer an Anthropic upstream gives); across reloads, what the
// route answers with — an unrelated policy edit keeps cached answers, a change of targets does not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, startFakeUpstreams, type FakeUpstreams } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { devProcesses } from '../helpers/turnout-process.ts';
import { chat } from './harness.ts';
import { providersYaml } from './manifests.ts';

let up: FakeUpstreams<'openai' | 'spare' | 'anthropic'>;
const dev = devProcesses();

before(async () => {
  up = await startFakeUpstreams({ openai: 'openai', spare: 'openai', anthropic: 'anthropic' });
});
after(async () => {
  await dev.closeAll();
  await closeAll(up);
});

describe('response cache keys', () => {
  it('for Anthropic callers, include the Anthropic-only fields an Anthropic upstream receives', async () => {
    const turnout = await dev.start({
      'p.yaml': manifest.file(
        manifest.secret({ k: 'sk-ant-test-0123456789' }),
        manifest.modelProvider({
          name: 'claude',
          type: 'anthropic',
          endpoint: up.anthropic.url,
          key: 'k',
          models: `
    - { name: claude-sonnet-4-5, pricing: { input: 3, output: 15 }, capabilities: [chat, streaming, tools, json] }`,
        }),
      ),
      'r.yaml': manifest.routingPolicy(`
    - name: claude
      match: { model: ["claude*"] }
      targets: [{ provider: claude, model: claude-sonnet-4-5 }]
      cache: { ttl: 10m, maxEntries: 100 }`),
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
    assert.equal(up.anthropic.count, 3);
  });

  it('survive a reload that leaves the route alone, and miss once its targets change', async () => {
    const policies = (otherLimit: number, target = 'provider: primary, model: gpt-4o') =>
      manifest.file(
        manifest.routingPolicy(`
    - name: smart
      match: { model: ["smart"] }
      targets: [{ ${target} }]
      cache: { ttl: 10m, maxEntries: 100 }`),
        manifest.routingPolicy(
          `
    - name: x
      match: { model: ["other"] }
      targets: [{ provider: secondary, model: backup-model }]`,
          `  budgets:
    - { name: d, limitUSD: ${otherLimit}, window: day }`,
          'other',
        ),
      );
    const r = await dev.start({
      'p.yaml': providersYaml(up.openai.url, up.spare.url),
      'r.yaml': policies(5),
    });
    const ask = async () => {
      const res = await chat(r.url, { messages: [{ role: 'user', content: 'cache me' }] });
      await res.text();
      return [res.headers.get('x-turnout-cache'), res.headers.get('x-turnout-provider')];
    };
    assert.deepEqual(await ask(), [null, 'primary']);
    assert.deepEqual(await ask(), ['hit', 'primary']);

    await r.reload('r.yaml', policies(6));
    assert.deepEqual(await ask(), ['hit', 'primary'], 'another policy’s budget changed: still cached');

    await r.reload('r.yaml', policies(6, 'provider: secondary, model: backup-model'));
    assert.deepEqual(await ask(), [null, 'secondary'], 'the route’s target changed: asked again');
    assert.equal(up.openai.count, 1);
    assert.equal(up.spare.count, 1);
  });
});
