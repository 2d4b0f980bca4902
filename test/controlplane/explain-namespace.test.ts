// `turnout explain --namespace NS` against a real kube-apiserver: manifests applied with kubectl, then
// the CLI reads them from the cluster and explains a request as the operator would serve it, without
// reading a Secret and without any operator running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { apply, createNamespace, ok, startTurnoutControlPlane } from './operator-harness.ts';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const NS = 'explain-demo';
const SECRET_VALUE = 'sk-explain-never-shown-5678';

const provider = (name: string, spec: object) => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: { name, namespace: NS },
  spec,
});
const policy = (name: string, app: string, route: object) => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'RoutingPolicy',
  metadata: { name, namespace: NS },
  spec: { workloadSelector: { matchLabels: { app } }, routes: [route] },
});
const webRoute = (primary: string) => ({
  name: 'main',
  targets: [{ provider: primary, model: 'gpt-4o-mini' }],
  fallbacks: [{ provider: 'sim', model: 'sim-small' }],
});

describe('turnout explain --namespace (real kube-apiserver)', () => {
  let cp: ControlPlane;
  let dir = '';

  const explain = (workload: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'explain', '--namespace', NS, '--workload', workload, join(dir, 'request.json')],
        { env: cp.env },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  before(
    async () => {
      cp = await startTurnoutControlPlane();
      dir = await mkdtemp(join(tmpdir(), 'turnout-explain-ns-'));
      await writeFile(
        join(dir, 'request.json'),
        JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      );
      await createNamespace(cp, NS);
      const openai = (secret: string) => ({
        type: 'openai',
        endpoint: 'https://api.openai.com/v1',
        auth: { secretRef: { name: secret, key: 'apiKey' } },
        models: [{ name: 'gpt-4o-mini' }],
      });
      await apply(
        cp,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'openai-key', namespace: NS },
          stringData: { apiKey: SECRET_VALUE },
        },
        provider('openai', openai('openai-key')),
        provider('orphan', openai('no-such-secret')),
        provider('sim', { type: 'mock', models: [{ name: 'sim-small' }] }),
        policy('web', 'web', webRoute('openai')),
        // Broken, and for another workload: it must not stop the explanation for app=web.
        policy('batch', 'batch', { name: 'cheap', targets: [{ provider: 'mock-missing', model: 'x' }] }),
      );
      // What the operator writes when it finds the Secret missing: explain takes its word for it.
      const ready = {
        type: 'Ready',
        status: 'False',
        reason: 'SecretNotFound',
        message: 'spec.auth.secretRef.name: Secret "no-such-secret" not found',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      };
      ok(
        await cp.kubectl([
          '-n',
          NS,
          'patch',
          'mp',
          'orphan',
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { observedGeneration: 1, conditions: [ready] } }),
        ]),
      );
    },
    { timeout: 90 * 60_000 },
  );

  after(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('explains from the cluster’s objects, leaving out the broken ones with a warning', async () => {
    const r = await explain('app=web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ web\/main/);
    assert.match(r.stdout, /→ route web\/main, strategy priority/);
    assert.match(r.stdout, /1\. openai\/gpt-4o-mini\n {2}2\. sim\/sim-small \(fallback\) \[simulated\]/);
    assert.doesNotMatch(r.stdout, /batch/);
    assert.match(r.stderr, /warning: RoutingPolicy explain-demo\/batch is not accepted: .*mock-missing/);
    assert.match(r.stderr, /warning: ModelProvider explain-demo\/orphan is not ready: .*no-such-secret/);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET_VALUE), 'no Secret value is printed');
  });

  it('serves a refused edit’s last accepted version, as the operator does', async () => {
    const accepted = webRoute('openai');
    ok(
      await cp.kubectl([
        '-n',
        NS,
        'annotate',
        'rp',
        'web',
        `turnout.dev/last-accepted=${JSON.stringify({
          generation: 1,
          spec: { workloadSelector: { matchLabels: { app: 'web' } }, routes: [accepted] },
        })}`,
      ]),
    );
    // Generation 2 points at the provider whose Secret is missing: refused, generation 1 still serves.
    await apply(cp, policy('web', 'web', webRoute('orphan')));
    const r = await explain('app=web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /→ route web\/main/);
    assert.match(r.stdout, /1\. openai\/gpt-4o-mini/);
    assert.match(
      r.stderr,
      /RoutingPolicy explain-demo\/web is not accepted: .*sidecars keep running generation 1/,
    );
  });

  it('says when no accepted policy selects the workload', async () => {
    const r = await explain('app=batch');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no accepted RoutingPolicy selects this workload/);
    assert.match(r.stdout, /→ no route matches and no defaultRoute/);
  });
});
