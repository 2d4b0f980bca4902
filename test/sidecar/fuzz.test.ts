// Property-based: generated and mutated request bodies against every inbound endpoint of a real
// sidecar process. Whatever arrives, the answer is a well-formed success or a clear 4xx in the caller's
// dialect — never a 500, never a hang — and the process stays up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';

let t: TurnoutProcess;
let dir: Awaited<ReturnType<typeof configDir>>;

before(async () => {
  dir = await configDir({
    'all.yaml': `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: sim, namespace: t }
spec:
  type: mock
  mock: { chunks: 3 }
  models: [{ name: m, capabilities: [chat, streaming, tools, json, vision, embeddings] }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: p, namespace: t }
spec:
  routes: [{ name: all, match: { model: ["*"] }, targets: [{ provider: sim, model: m }] }]
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
});

const validChat = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };
const validMessages = { model: 'x', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

/** A valid body with one field replaced by an arbitrary JSON value, or removed. */
const mutated = (base: Record<string, unknown>) =>
  fc
    .tuple(
      fc.constantFrom(...Object.keys(base), 'stream', 'tools', 'response_format', 'system', 'input'),
      fc.option(fc.jsonValue(), { nil: undefined }),
    )
    .map(([k, v]) => {
      const copy: Record<string, unknown> = { ...base };
      if (v === undefined) delete copy[k];
      else copy[k] = v;
      return Buffer.from(JSON.stringify(copy));
    });

const bodies = (base: Record<string, unknown>) =>
  fc.oneof(
    mutated(base),
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
        { numRuns: 120 },
      );
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    });
  }
});
