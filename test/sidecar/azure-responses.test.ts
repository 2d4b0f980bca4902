// /v1/responses routed to an azure-openai provider, with the real openai client: the sidecar calls the
// resource's v1 Responses API (/openai/v1/responses, no api-version) with its api-key header and the
// deployment as `model`. The fake resource refuses anything else, as Azure does.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import { defaultContent, startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { closeAll, resetAll } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { startDev, type DevTurnout } from '../helpers/turnout-process.ts';

const AZURE_KEY = 'sk-azure-responses-0123';
const DEPLOYMENT = 'gpt-4o-prod';

let azure: FakeProvider;
let backup: FakeProvider;
let turnout: DevTurnout;
let client: OpenAI;

before(async () => {
  azure = await startFakeProvider({ dialect: 'azure-openai', deployments: [DEPLOYMENT] });
  backup = await startFakeProvider({ dialect: 'openai' });
  turnout = await startDev({
    'all.yaml': manifest.file(
      manifest.secret({ az: AZURE_KEY, oa: 'sk-backup' }),
      manifest.modelProvider({
        name: 'az',
        type: 'azure-openai',
        endpoint: azure.url,
        key: 'az',
        extra: "azure: { apiVersion: '2024-10-21' }",
        models: `
    - { name: gpt-4o, deployment: ${DEPLOYMENT}, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, responses] }`,
      }),
      manifest.modelProvider({
        name: 'oa',
        type: 'openai',
        endpoint: backup.url,
        key: 'oa',
        models:
          '[{ name: gpt-4o, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, responses] }]',
      }),
      manifest.routingPolicy(`
    - { name: respond, match: { model: ["smart"] }, targets: [{ provider: az, model: gpt-4o }] }
    - name: guarded
      match: { model: ["guarded"] }
      targets: [{ provider: az, model: gpt-4o }]
      fallbacks: [{ provider: oa, model: gpt-4o }]
      retry: { attempts: 2, backoff: { base: 10ms, max: 20ms } }`),
    ),
  });
  // The caller's own key: it must never reach Azure.
  client = new OpenAI({ baseURL: `${turnout.url}/v1`, apiKey: 'caller-token', maxRetries: 0 });
});

after(async () => {
  await turnout?.close();
  await closeAll({ azure, backup });
});

beforeEach(() => resetAll({ azure, backup }));

/** What the fake resource received: the v1 path without a query, Azure's key header, the deployment. */
function assertAzureCall(stream: boolean): void {
  const [request] = azure.requests;
  assert.ok(request, 'the call reached the Azure resource');
  assert.equal(request.path, '/openai/v1/responses');
  assert.equal(request.query, '', 'no api-version on the v1 API, and never the key in the URL');
  assert.equal(request.headers['api-key'], AZURE_KEY);
  assert.equal(request.headers.authorization, undefined, "the caller's Authorization is not forwarded");
  assert.equal(request.model, DEPLOYMENT);
  assert.equal(request.stream, stream);
  assert.equal(request.step, 'ok');
}

describe('POST /v1/responses to azure-openai', () => {
  it('non-streaming: the answer, with cost from its usage', async () => {
    const { data, response } = await client.responses
      .create({ model: 'smart', input: 'hello azure' })
      .withResponse();
    assert.equal(data.output_text, defaultContent(DEPLOYMENT, 'hello azure'));
    assert.equal(response.headers.get('x-turnout-provider'), 'az');
    assert.equal(response.headers.get('x-turnout-model'), 'gpt-4o');
    assert.ok(Number(response.headers.get('x-turnout-cost-usd')) > 0);
    assertAzureCall(false);
  });

  it('streaming: every text delta, then response.completed with usage', async () => {
    azure.onNext({ kind: 'ok', content: 'streamed from azure', chunks: 3 });
    const stream = await client.responses.create({ model: 'smart', input: 'hello', stream: true });
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(text, 'streamed from azure');
    assert.equal(completed?.status, 'completed');
    assert.equal(completed?.model, DEPLOYMENT, 'Azure names the deployment');
    assert.ok((completed?.usage?.output_tokens ?? 0) > 0);
    assertAzureCall(true);
  });

  it("a content-filter refusal reaches the caller with Azure's reason, asked once and never failed over", async () => {
    azure.setDefault({ kind: 'content-filter' });
    await assert.rejects(client.responses.create({ model: 'guarded', input: 'something filtered' }), (e) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'content_filter');
      assert.match(e.message, /content management policy/);
      return true;
    });
    assert.equal(azure.count, 1, 'not retried on the same model');
    assert.equal(backup.count, 0, 'not sent to the fallback');
  });

  it('chat completions to the same provider keep the deployment path and api-version', async () => {
    const completion = await client.chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0]?.message.content, defaultContent('gpt-4o', 'hi'));
    const [request] = azure.requests;
    assert.equal(request?.path, `/openai/deployments/${DEPLOYMENT}/chat/completions`);
    assert.equal(request?.query, '?api-version=2024-10-21');
    assert.equal(request?.headers['api-key'], AZURE_KEY);
  });
});
