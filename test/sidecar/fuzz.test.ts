// Property-based: generated and mutated request bodies against every inbound endpoint of a real
// sidecar process, routed to a simulated provider and to fake OpenAI, Anthropic and Gemini upstreams
// (so every translation runs). Whatever arrives, the answer is a well-formed success or a clear 4xx in
// the caller's dialect — never a 500, never a hang — and the process stays up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';

let t: TurnoutProcess;
let dir: Awaited<ReturnType<typeof configDir>>;
const fakes: FakeProvider[] = [];

const CAPABILITIES = '[chat, streaming, tools, json, vision, embeddings, responses]';
const upstream = (type: string, url: string) => `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${type}, namespace: t }
spec:
  type: ${type}
  endpoint: ${url}
  auth: { secretRef: { name: keys, key: k } }
  models: [{ name: m, capabilities: ${CAPABILITIES} }]
---`;

/** The models a body may ask for: one route per upstream dialect, and the simulated provider. */
const MODELS = ['x', 'openai', 'anthropic', 'gemini'];

before(async () => {
  for (const dialect of ['openai', 'anthropic', 'gemini'] as const)
    fakes.push(await startFakeProvider({ dialect }));
  const [openai, anthropic, gemini] = fakes as [FakeProvider, FakeProvider, FakeProvider];
  dir = await configDir({
    'all.yaml': `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { k: fuzz-key-0123456789 }
---${upstream('openai', openai.url)}${upstream('anthropic', anthropic.url)}${upstream('gemini', gemini.url)}
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: sim, namespace: t }
spec:
  type: mock
  mock: { chunks: 3 }
  models: [{ name: m, capabilities: ${CAPABILITIES} }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: p, namespace: t }
spec:
  routes:
    - { name: openai, match: { model: ["openai"] }, targets: [{ provider: openai, model: m }] }
    - { name: anthropic, match: { model: ["anthropic"] }, targets: [{ provider: anthropic, model: m }] }
    - { name: gemini, match: { model: ["gemini"] }, targets: [{ provider: gemini, model: m }] }
    - { name: all, match: { model: ["*"] }, targets: [{ provider: sim, model: m }] }
`,
  });
  t = await startTurnout([
    'dev',
    '--config',
    dir.dir,
    '--listen',
    '127.0.0.1:0',
    '--quiet',
    '--max-body-bytes',
    '256k',
  ]);
  await t.waitForLine(/loaded snapshot/);
});

after(async () => {
  await t?.stop();
  await dir?.remove();
  for (const fake of fakes) await fake.close();
});

const validChat = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };
const validMessages = { model: 'x', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

/** Objects String() and Number() cannot convert: neither toString nor valueOf is a function. */
const unconvertible = fc.constantFrom<unknown>(
  { toString: 1 },
  { toString: 1, valueOf: 1 },
  { toString: {} },
);
/** Names every plain object inherits: a lookup table must not find Object's "constructor". */
const inherited = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty');
const trapValue = fc.oneof(unconvertible, inherited);
/** Such values alone, and where a type goes in tool_choice, an image source and a tool's schema. */
const traps = fc.oneof(
  { arbitrary: trapValue, weight: 3 },
  fc.record({ type: trapValue }),
  trapValue.map((type) => [{ role: 'user', content: [{ type: 'image', source: { type } }] }]),
  inherited.map((type) => [
    {
      type: 'function',
      function: { name: 'f', parameters: { properties: { a: { type, format: 'date-time' } } } },
    },
  ]),
);

const KEYS = [
  'stream',
  'tools',
  'tool_choice',
  'response_format',
  'system',
  'input',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'temperature',
  'stop',
];

/** A valid body for one of the models, with one field replaced by an arbitrary JSON value or a trap, or removed. */
const mutated = (base: Record<string, unknown>) =>
  fc
    .tuple(
      fc.constantFrom(...MODELS),
      fc.constantFrom(...new Set([...Object.keys(base), ...KEYS])),
      fc.option(fc.oneof(fc.jsonValue(), traps), { nil: undefined }),
    )
    .map(([model, k, v]) => {
      const copy: Record<string, unknown> = { ...base, model };
      if (v === undefined) delete copy[k];
      else copy[k] = v;
      return Buffer.from(JSON.stringify(copy));
    });

const bodies = (base: Record<string, unknown>) =>
  fc.oneof(
    { arbitrary: mutated(base), weight: 4 }, // a valid body with one field wrong reaches the most code
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
    fc.integer({ min: 100, max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  );

async function post(path: string, body: Buffer) {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('fuzzing the HTTP edge', () => {
  for (const [path, base, dialect] of [
    ['/v1/chat/completions', validChat, 'openai'],
    ['/v1/messages', validMessages, 'anthropic'],
    ['/v1/embeddings', { model: 'x', input: 'hi' }, 'openai'],
    ['/v1/responses', { model: 'x', input: 'hi' }, 'openai'],
  ] as const) {
    it(`${path}: no 500, no hang, errors in the ${dialect} dialect`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies(base), async (body) => {
          const r = await post(path, body);
          assert.ok(
            r.status !== 500 && r.status < 600,
            `status ${r.status} for ${body.toString('utf8').slice(0, 120)}: ${r.text.slice(0, 200)}`,
          );
          if (r.status >= 400) {
            const err = JSON.parse(r.text) as { error?: { message?: string }; type?: string };
            assert.ok(err.error?.message, 'an error message');
            if (dialect === 'anthropic') assert.equal(err.type, 'error');
          }
        }),
        { numRuns: 300 },
      );
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    });
  }
});
