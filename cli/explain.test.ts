import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { asChatBody, chatFeatures } from '../sidecar/routing/features.ts';
import { buildRuntime } from '../sidecar/snapshot/runtime.ts';
import { loadConfigDir } from './config-dir.ts';
import { explain } from './explain.ts';

const examples = fileURLToPath(new URL('../examples/local', import.meta.url));

async function explainFor(body: object, headers: Record<string, string> = {}) {
  const loaded = await loadConfigDir(examples, { labels: 'all' });
  assert.ok(loaded.snapshot);
  const runtime = buildRuntime(loaded.snapshot, () => ({}));
  const chat = asChatBody(body);
  return explain(runtime, chatFeatures(chat, headers), chat);
}

describe('turnout explain', () => {
  it('names the winning route, why others did not match, and the ordered targets', async () => {
    const out = await explainFor(
      { model: 'smart', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-tenant-tier': 'premium' },
    );
    assert.match(out, /→ route assistant\/premium, strategy priority/);
    assert.match(out, /· assistant\/phi: needs tag sensitivity=phi/);
    assert.match(out, /1\. mock-strong\/large-1 \[simulated\]\n {2}2\. mock-flaky\/medium-1 \(fallback\)/);
  });
  it('says when the default route serves an unknown model', async () => {
    const out = await explainFor({ model: 'something-else', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(out, /→ route assistant\/cheap \(defaultRoute\)/);
  });
  it('routes a request tagged sensitive to the compliant route only', async () => {
    const out = await explainFor(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-turnout-tags': 'sensitivity=phi' },
    );
    assert.match(out, /→ route assistant\/phi/);
    assert.doesNotMatch(out, /mock-cheap/, 'the non-hipaa provider is not a candidate');
  });
  it('keeps a premium tenant’s sensitive request on hipaa providers too, fallbacks included', async () => {
    const out = await explainFor(
      { model: 'smart', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-tenant-tier': 'premium', 'x-turnout-tags': 'sensitivity=phi' },
    );
    assert.match(out, /→ route assistant\/phi/);
    assert.doesNotMatch(
      out,
      /mock-cheap/,
      'premium’s fallback chain (mock-cheap, hipaa false) is not reached',
    );
  });
});

const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs `turnout explain` as a user would: its exit code, stdout and stderr. */
function turnout(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'explain', ...args], (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const batchPolicy = (provider: string) => `apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: batch-only, namespace: demo }
spec:
  workloadSelector: { matchLabels: { app: batch } }
  routes:
    - name: everything-cheap
      targets:
        - { provider: ${provider}, model: small-1 }
`;

describe('turnout explain (command line)', () => {
  let dir = '';
  const request = () => join(dir, 'request.json');
  const withBatch = (name: string) => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnout-explain-'));
    await writeFile(
      request(),
      JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
    );
    for (const [name, provider] of [
      ['valid', 'mock-cheap'],
      ['broken', 'mock-missing'],
    ] as const) {
      await cp(examples, withBatch(name), { recursive: true });
      await writeFile(join(withBatch(name), 'batch.yaml'), batchPolicy(provider));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('explains from the accepted policies when a policy for another workload is broken', async () => {
    const r = await turnout(['--config', withBatch('broken'), '--workload', 'app=web', request()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /→ route assistant\/smart, strategy weighted/);
    assert.match(r.stderr, /warning: RoutingPolicy demo\/batch-only .*mock-missing.*\(left out\)/);
    assert.match(r.stderr, /left out, as the operator would: RoutingPolicy demo\/batch-only/);
    assert.doesNotMatch(r.stderr, /nothing to explain/);
  });

  it('applies only the policies that select the workload', async () => {
    const web = await turnout(['--config', withBatch('valid'), '--workload', 'app=web', request()]);
    assert.equal(web.code, 0, web.stderr);
    assert.doesNotMatch(web.stdout, /batch-only/, 'a policy for app=batch does not apply to app=web');
    assert.match(web.stdout, /→ route assistant\/smart/);
    const batch = await turnout(['--config', withBatch('valid'), '--workload', 'app=batch', request()]);
    assert.match(
      batch.stdout,
      /→ route batch-only\/everything-cheap/,
      'the more specific policy comes first',
    );
    const bare = await turnout(['--config', withBatch('valid'), '--workload', '', request()]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.doesNotMatch(bare.stdout, /batch-only/, 'a pod without labels gets namespace-wide policies only');
  });

  it('requires --workload, rather than applying every workload’s policies at once', async () => {
    const r = await turnout(['--config', withBatch('valid'), request()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--workload is required/);
  });

  it('asks for --config or --namespace', async () => {
    const r = await turnout(['--workload', 'app=web', request()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--config DIR \(manifests\) or --namespace NS \(the cluster\) is required/);
  });
});
