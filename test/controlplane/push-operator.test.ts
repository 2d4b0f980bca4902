// The whole chain through the CLI: `turnout operator` (real reconciler + push server) and `turnout sidecar`
// processes with real pod-bound tokens. A `kubectl apply` reaches every sidecar, RoutingPolicy status
// shows them synced, and the sidecars keep serving after the operator stops.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  createNamespace,
  createPod,
  eventually,
  makeTestTls,
  mintToken,
  spawnSidecar,
  type SidecarProcess,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { apply, startTurnoutControlPlane } from './operator-harness.ts';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const NS = 'push-op';

const objects = (route: string) => [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'keys', namespace: NS },
    stringData: { k: 'sk-push-op-key' },
  },
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'ModelProvider',
    metadata: { name: 'sim', namespace: NS },
    spec: { type: 'mock', auth: { secretRef: { name: 'keys', key: 'k' } }, models: [{ name: 'm1' }] },
  },
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: { name: 'app', namespace: NS },
    spec: {
      routes: [{ name: route, match: { model: ['chat'] }, targets: [{ provider: 'sim', model: 'm1' }] }],
    },
  },
];

describe('turnout operator pushing to turnout sidecars (real reconciler)', () => {
  let cp: ControlPlane;
  let tls: TestTls;
  let dir: string;
  let operator: ChildProcess | undefined;
  let operatorOutput = '';
  const sidecars: SidecarProcess[] = [];
  const kubectl = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);

  before(
    async () => {
      cp = await startTurnoutControlPlane(true);
      tls = await makeTestTls();
      dir = await mkdtemp(join(tmpdir(), 'turnout-push-op-'));
      await createNamespace(kubectl, NS);
      assert.equal((await kubectl(['label', 'namespace', NS, 'turnout.dev/inject=enabled'])).code, 0);
      await apply(cp, ...objects('first'));
      const pods = [await createPod(kubectl, NS, 'one'), await createPod(kubectl, NS, 'two')];
      operator = spawn(
        process.execPath,
        [CLI, 'operator', '--kubeconfig', cp.kubeconfig, '--tls-cert', tls.cert, '--tls-key', tls.key],
        { env: { ...cp.env, TURNOUT_PUSH_LISTEN: '127.0.0.1:0', TURNOUT_LEASE_NAMESPACE: 'default' } },
      );
      operator.stdout?.on('data', (c: Buffer) => (operatorOutput += c.toString()));
      operator.stderr?.on('data', (c: Buffer) => (operatorOutput += c.toString()));
      const serving = /"component":"push","msg":"serving","url":"(https:[^"]+)"/;
      await eventually('operator serving', () => serving.test(operatorOutput), 60_000).catch((e: Error) =>
        assert.fail(`${e.message}\n${operatorOutput}`),
      );
      const url = serving.exec(operatorOutput)?.[1] ?? '';
      for (const pod of pods) {
        const tokenFile = join(dir, `${pod.name}.token`);
        await writeFile(tokenFile, await mintToken(kubectl, NS, { audience: 'turnout', pod }));
        sidecars.push(
          await spawnSidecar({
            TURNOUT_OPERATOR_URL: url,
            TURNOUT_CA_FILE: tls.caFile,
            TURNOUT_TOKEN_FILE: tokenFile,
            TURNOUT_POD_NAMESPACE: NS,
            TURNOUT_POD_NAME: pod.name,
            TURNOUT_STATE_DIR: join(dir, `${pod.name}-state`),
          }),
        );
      }
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const s of sidecars) await s.stop();
    if (operator?.exitCode === null) operator.kill('SIGKILL');
    await tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  const route = async (s: SidecarProcess) => {
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    return res.status === 200 ? res.headers.get('x-turnout-route') : `status ${res.status}`;
  };
  const status = async () => {
    const out = await kubectl(['-n', NS, 'get', 'rp', 'app', '-o', 'json']);
    return (
      JSON.parse(out.stdout) as { status?: { sidecars?: { synced?: number }; snapshotVersion?: string } }
    ).status;
  };
  const converged = async (name: string) => {
    for (const s of sidecars) if ((await route(s)) !== name) return false;
    return (await status())?.sidecars?.synced === sidecars.length;
  };
  const waitConverged = (name: string) =>
    eventually(`every sidecar on "${name}" and status synced`, () => converged(name), 60_000).catch(
      (e: Error) =>
        assert.fail(`${e.message}\n${sidecars.map((s) => s.output()).join('\n')}\n${operatorOutput}`),
    );

  it('syncs every injected pod’s sidecar and reports them synced in RoutingPolicy status', async () => {
    await waitConverged('first');
  });

  it('delivers a kubectl apply to every sidecar, acknowledged in status', async () => {
    const before = (await status())?.snapshotVersion;
    await apply(cp, ...objects('second'));
    await waitConverged('second');
    assert.notEqual((await status())?.snapshotVersion, before);
  });

  it('keeps the sidecars serving after the operator stops', async () => {
    operator?.kill('SIGTERM');
    const code = await new Promise((resolve) => operator?.once('exit', resolve));
    assert.equal(code, 0);
    for (const s of sidecars) await s.waitFor((l) => l.msg === 'sync.disconnected');
    for (const s of sidecars) assert.equal(await route(s), 'second');
    assert.doesNotMatch(sidecars.map((s) => s.output()).join('') + operatorOutput, /sk-push-op-key/);
  });
});
