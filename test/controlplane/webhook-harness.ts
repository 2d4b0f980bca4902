// Shared by webhook-*, helm-* and transparent-* tests: the chart installed with real helm into the test
// apiserver, and `turnout operator` replicas run the way the chart's Deployment would run them — its
// ServiceAccount token (so the chart's RBAC is what is exercised), its rendered config file and env.
// Two things differ, because no kubelet or Service network exists here: the replicas listen on
// 127.0.0.1 ports (webhook.url points the apiserver at them) and mirror their TLS into a temp dir.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandResult, ControlPlane } from '../helpers/control-plane.ts';
import { freePort } from '../helpers/control-plane/net.ts';

export { freePort };
export { startBalancer } from './webhook-balancer.ts';
export * from './webhook-pods.ts';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'cli/main.ts');
export const CHART = join(ROOT, 'charts/turnout');
export const RELEASE = 'turnout';
export const SYSTEM_NS = 'turnout-system';

export function ok(result: CommandResult): string {
  assert.equal(result.code, 0, `command failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      assert.fail(
        `${what}: not true after ${timeoutMs} ms${last instanceof Error ? `\n${last.message}` : ''}`,
      );
    await sleep(250);
  }
}

export const helmSet = (values: Record<string, string>) =>
  Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

export async function helmInstall(cp: ControlPlane, values: Record<string, string>): Promise<string> {
  return ok(
    await cp.helm(['install', RELEASE, CHART, '-n', SYSTEM_NS, '--create-namespace', ...helmSet(values)]),
  );
}

/** A kubeconfig authenticating as the chart's ServiceAccount, as the in-cluster config would. */
export async function serviceAccountKubeconfig(cp: ControlPlane, dir: string): Promise<string> {
  const token = ok(await cp.kubectl(['-n', SYSTEM_NS, 'create', 'token', RELEASE, '--duration=4h'])).trim();
  const path = join(dir, 'operator-sa.kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cp.server, 'certificate-authority': cp.caFile } }],
    users: [{ name: 'operator', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'operator' } }],
    'current-context': 'test',
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

export async function get<T>(cp: ControlPlane, args: string[]): Promise<T> {
  return JSON.parse(ok(await cp.kubectl([...args, '-o', 'json']))) as T;
}

export interface Replica {
  name: string;
  child: ChildProcess;
  webhookPort: number;
  pushPort: number;
  metricsPort: number;
  tlsDir: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** One `turnout operator` replica with the installed chart's config, env and ServiceAccount. */
export async function startReplica(
  cp: ControlPlane,
  dir: string,
  name: string,
  ports: { webhook: number; push: number },
): Promise<Replica> {
  const config = JSON.parse(
    ok(
      await cp.kubectl([
        '-n',
        SYSTEM_NS,
        'get',
        'configmap',
        `${RELEASE}-config`,
        '-o',
        'jsonpath={.data.config\\.json}',
      ]),
    ),
  ) as { webhook: { listen: string } };
  config.webhook.listen = `127.0.0.1:${ports.webhook}`;
  const replicaDir = join(dir, name);
  await mkdir(replicaDir, { recursive: true });
  const configFile = join(replicaDir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const kubeconfig = await serviceAccountKubeconfig(cp, replicaDir);
  const metricsPort = await freePort();
  const deployment = await get<{
    spec: {
      template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } };
    };
  }>(cp, ['-n', SYSTEM_NS, 'get', 'deployment', RELEASE]);
  const container = deployment.spec.template.spec.containers[0];
  assert.ok(container);
  const env: NodeJS.ProcessEnv = { ...cp.env, POD_NAMESPACE: SYSTEM_NS };
  for (const e of container.env) if (e.value !== undefined) env[e.name] = e.value;
  Object.assign(env, {
    TURNOUT_PUSH_LISTEN: `127.0.0.1:${ports.push}`,
    TURNOUT_METRICS_PORT: String(metricsPort),
    KUBECONFIG: kubeconfig,
  });
  const args = container.args.map((a) => (a === '/etc/turnout/config.json' ? configFile : a));
  const tlsDir = join(replicaDir, 'tls');
  const child = spawn(process.execPath, [CLI, ...args, '--kubeconfig', kubeconfig, '--tls-dir', tlsDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const replica: Replica = {
    name,
    child,
    webhookPort: ports.webhook,
    pushPort: ports.push,
    metricsPort,
    tlsDir,
    output: () => text,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      await eventually(
        `${name}: ${pattern}`,
        () => {
          if (child.exitCode !== null) assert.fail(`${name} exited (${child.exitCode}):\n${text}`);
          return Promise.resolve(pattern.test(text));
        },
        timeoutMs,
      ).catch((e: Error) => assert.fail(`${e.message}\n${text}`));
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  await replica.waitFor(/"msg":"webhook serving"/);
  return replica;
}

export async function metric(replica: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}
