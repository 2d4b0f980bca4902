import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { defaultContent, startFakeProvider, type FakeProvider } from '../index.ts';
import { post, readBody } from './http.ts';

const KEY = 'azure-fake-key';
const DEPLOYMENT = 'chat-prod';

describe('azure-openai dialect', () => {
  let fake: FakeProvider;
  /** The v1 API through the plain OpenAI client, the key in the api-key header as Azure documents. */
  let v1: OpenAI;
  before(async () => {
    fake = await startFakeProvider({ dialect: 'azure-openai', deployments: [DEPLOYMENT] });
    v1 = new OpenAI({
      baseURL: `${fake.url}/v1`,
      apiKey: 'not-read-by-azure',
      defaultHeaders: { 'api-key': KEY },
      maxRetries: 0,
    });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  const responsesUrl = () => `${fake.url}/v1/responses`;
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('serves the v1 Responses API with the deployment as model, JSON and stream', async () => {
    const answer = await v1.responses.create({ model: DEPLOYMENT, input: 'hello' });
    assert.equal(answer.output_text, defaultContent(DEPLOYMENT, 'hello'));
    assert.equal(answer.model, DEPLOYMENT, 'Azure names the deployment in the answer');
    const stream = await v1.responses.create({ model: DEPLOYMENT, input: 'hi', stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    assert.equal(text, defaultContent(DEPLOYMENT, 'hi'));
    assert.deepEqual(
      fake.requests.map((r) => [r.path, r.query, r.apiKey, r.endpoint, r.stream]),
      [
        ['/openai/v1/responses', '', KEY, 'responses', false],
        ['/openai/v1/responses', '', KEY, 'responses', true],
      ],
    );
  });

  it('serves chat on the deployment path with an api-version, as the AzureOpenAI client calls it', async () => {
    const client = new AzureOpenAI({
      endpoint: fake.origin,
      apiKey: KEY,
      apiVersion: '2024-10-21',
      deployment: DEPLOYMENT,
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(completion.choices[0]?.message.content, defaultContent('gpt-4o', 'hello'));
    assert.equal(fake.requests[0]?.path, `/openai/deployments/${DEPLOYMENT}/chat/completions`);
    assert.equal(fake.requests[0]?.query, '?api-version=2024-10-21');
  });

  it('refuses what the real resource refuses: key, deployment, api-version, path', async () => {
    const body = { model: DEPLOYMENT, input: 'x' };
    const key = { 'api-key': KEY };
    const noKey = await post(responsesUrl(), body, { authorization: `Bearer ${KEY}` });
    assert.equal(noKey.status, 401, 'a key sent as a Bearer token is not an api-key');
    assert.equal(await errorOf(noKey), '401');
    const unknown = await post(responsesUrl(), { ...body, model: 'gpt-4o' }, key);
    assert.deepEqual([unknown.status, await errorOf(unknown)], [404, 'DeploymentNotFound']);
    const dated = await post(`${responsesUrl()}?api-version=2024-10-21`, body, key);
    assert.deepEqual([dated.status, await errorOf(dated)], [400, 'BadRequest']);
    assert.equal((await post(`${responsesUrl()}?api-version=preview`, body, key)).status, 200);
    const chatPath = `${fake.url}/deployments/${DEPLOYMENT}/chat/completions`;
    const chat = { messages: [{ role: 'user', content: 'x' }] };
    assert.equal((await post(chatPath, chat, key)).status, 404, 'the dated API needs an api-version');
    const otherDeployment = await post(
      `${fake.url}/deployments/nope/chat/completions?api-version=2024-10-21`,
      chat,
      key,
    );
    assert.deepEqual([otherDeployment.status, await errorOf(otherDeployment)], [404, 'DeploymentNotFound']);
    assert.equal((await post(`${fake.url}/responses`, body, key)).status, 404);
    assert.equal(fake.requests.filter((r) => r.step !== 'status').length, 1, 'only the valid call answered');
  });

  it("content-filter is Azure's 400 content_filter with the category in innererror", async () => {
    fake.onNext({ kind: 'content-filter' });
    const res = await post(responsesUrl(), { model: DEPLOYMENT, input: 'x' }, { 'api-key': KEY });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as {
      error: { code: string; innererror: { code: string; content_filter_result: unknown } };
    };
    assert.equal(error.code, 'content_filter');
    assert.equal(error.innererror.code, 'ResponsibleAIPolicyViolation');
  });

  it('a stream-error ends a Responses stream with an error event', async () => {
    fake.onNext({ kind: 'stream-error', afterChunks: 1, status: 500, content: 'one two', chunks: 2 });
    const res = await post(
      responsesUrl(),
      { model: DEPLOYMENT, input: 'x', stream: true },
      { 'api-key': KEY },
    );
    const { text } = await readBody(res);
    assert.match(text, /event: error\ndata: \{"type":"error","code":"InternalServerError"/);
    assert.ok(!text.includes('response.completed'));
  });
});
