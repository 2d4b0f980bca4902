// Shared by the apply-fanout and operator-rss suites: a real kube-apiserver + etcd (test/helpers), the
// CRDs, one namespace of objects applied with the real kubectl, N pods with pod-bound ServiceAccount
// tokens, a real `turnout operator` process, and N real sync clients (bench/sync-clients-process.ts) in
// child processes. The operator's JSON log lines (push.sent, push.ack) are what the suites time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPod, makeTestTls, mintToken, type TestTls } from '../../operator/push/testing/index.ts';
import { type ControlPlane, startControlPlane } from '../../test/helpers/control-plane.ts';
import { here } from '../processes.ts';

export interface OperatorLine {
  msg: string;
  /** performance.now() in the bench process when the line arrived. */
  at: number;
  [field: string]: unknown;
}

export interface OperatorCluster {
  cp: ControlPlane;
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** The running operator process. */
  operator(): ChildProcess & { pid: number };
  /**
   * Called with every JSON line the current operator process logs from now on, after the (first
   * 10,000) it logged so far.
   */
  onLine(listener: (line: OperatorLine) => void): () => void;
  output(): string;
  /** SIGTERM to the operator, then a new process with these NODE_OPTIONS (and env); resolves once it leads. */
  restartOperator(nodeOptions: string, env?: Readonly<Record<string, string>>): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorClusterOptions {
  namespace: string;
  /** Applied with `kubectl apply` in Lists of at most 100 objects, before the operator starts. */
  objects: object[];
  pods: { name: string; labels: Record<string, string> }[];
  /** The CLI to run (`cli/main.ts`, or the built `bench/out/dist/cli/main.js`). */
  cli: string;
  /** NODE_OPTIONS for the first operator process (empty: none). */
  nodeOptions?: string;
  clientProcesses?: number;
}

/**
 * A generated manifest as a user would apply it: no server-owned metadata.generation, and no
 * `retry.on` — crds/ renders that key as a bare YAML `on:`, which kubectl and the apiserver read as
 * the boolean true (YAML 1.1), so the installed CRD does not know the field (reported on issue #4).
 */
export function applyable<T extends { metadata: object }>(o: T): T {
  const copy = structuredClone(o) as T & { spec?: { routes?: { retry?: { on?: unknown } }[] } };
  delete (copy.metadata as { generation?: number }).generation;
  for (const r of copy.spec?.routes ?? []) delete r.retry?.on;
  return copy;
}

export async function startOperatorCluster(o: OperatorClusterOptions): Promise<OperatorCluster> {
  const cp = await startControlPlane({ controllerManager: true });
  const cleanups: (() => Promise<unknown>)[] = [() => cp.stop()];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    return await wire(o, cp, cleanups, stop);
  } catch (e) {
    await stop();
    throw e;
  }
}

async function wire(
  o: OperatorClusterOptions,
  cp: ControlPlane,
  cleanups: (() => Promise<unknown>)[],
  stop: () => Promise<void>,
): Promise<OperatorCluster> {
  const kubectl = async (args: readonly string[], input?: string) => {
    const r = await cp.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const kube = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);
  await kubectl(['apply', '-f', here('../crds/')]);
  await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  await kubectl(['create', 'namespace', o.namespace]);
  await kubectl(['label', 'namespace', o.namespace, 'turnout.dev/inject=enabled']);
  await kubectl(['-n', o.namespace, 'create', 'serviceaccount', 'app']);
  for (let deadline = Date.now() + 60_000; ;) {
    if ((await kube(['-n', o.namespace, 'get', 'serviceaccount', 'default'])).code === 0) break;
    if (Date.now() > deadline) throw new Error('no default ServiceAccount');
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 0; i < o.objects.length; i += 100) {
    const items = o.objects.slice(i, i + 100).map((x) => applyable(x as { metadata: object }));
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  }
  const tls = await makeTestTls();
  cleanups.push(() => tls.remove());
  const dir = await mkdtemp(join(tmpdir(), 'turnout-bench-operator-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tokens: { name: string; tokenFile: string }[] = [];
  for (const p of o.pods) {
    const pod = await createPod(kube, o.namespace, p.name, p.labels);
    const tokenFile = join(dir, `${p.name}.token`);
    await writeFile(tokenFile, await mintToken(kube, o.namespace, { audience: 'turnout', pod }));
    tokens.push({ name: p.name, tokenFile });
  }

  let op = spawnOperator(cp, o.cli, o.nodeOptions ?? '', tls);
  cleanups.push(() => op.kill());
  const url = await op.waitFor((l) => l.msg === 'serving', 120_000);
  await op.waitFor((l) => l.msg === 'became leader', 60_000);
  const listen = `127.0.0.1:${new URL(String(url['url'])).port}`;
  const restartOperator = async (nodeOptions: string, extraEnv: Readonly<Record<string, string>> = {}) => {
    await op.kill();
    op = spawnOperator(cp, o.cli, nodeOptions, tls, listen, extraEnv);
    await op.waitFor((l) => l.msg === 'became leader', 120_000);
  };
  const children = o.clientProcesses ?? 2;
  const per = Math.ceil(tokens.length / children);
  for (let c = 0; c < children && c * per < tokens.length; c++) {
    const args = {
      operatorUrl: String(url['url']),
      caFile: tls.caFile,
      namespace: o.namespace,
      stateDir: dir,
      pods: tokens.slice(c * per, (c + 1) * per),
    };
    const child = await spawnClients(args);
    cleanups.push(() => terminate(child));
  }
  return {
    cp,
    kubectl,
    operator: () => op.child,
    onLine: (l) => op.onLine(l),
    output: () => op.output(),
    restartOperator,
    stop,
  };
}

function spawnOperator(
  cp: ControlPlane,
  cli: string,
  nodeOptions: string,
  tls: TestTls,
  listen = '127.0.0.1:0',
  extraEnv: Readonly<Record<string, string>> = {},
) {
  const env: NodeJS.ProcessEnv = {
    ...cp.env,
    ...extraEnv,
    TURNOUT_PUSH_LISTEN: listen,
    TURNOUT_LEASE_NAMESPACE: 'default',
    TURNOUT_TLS_CERT: tls.cert,
    TURNOUT_TLS_KEY: tls.key,
    NODE_ENV: 'production',
  };
  delete env['NODE_OPTIONS'];
  if (nodeOptions) env['NODE_OPTIONS'] = nodeOptions;
  const child = spawn(process.execPath, [cli, 'operator', '--kubeconfig', cp.kubeconfig], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('turnout operator did not start');
  const listeners = new Set<(l: OperatorLine) => void>();
  const lines: OperatorLine[] = [];
  let text = '';
  let partial = '';
  const onData = (chunk: Buffer) => {
    const at = performance.now();
    const s = chunk.toString('utf8');
    if (text.length < 1 << 20) text += s;
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      const line = { ...(JSON.parse(p) as { msg: string }), at };
      if (lines.length < 10_000) lines.push(line);
      for (const l of listeners) l(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const onLine = (l: (line: OperatorLine) => void) => (listeners.add(l), () => listeners.delete(l));
  const replayAndListen = (l: (line: OperatorLine) => void) => {
    for (const line of lines) l(line);
    return onLine(l);
  };
  const waitFor = (pred: (l: OperatorLine) => boolean, timeoutMs: number) =>
    new Promise<OperatorLine>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(
        () => reject(new Error(`operator: no such line in ${timeoutMs} ms:\n${text}`)),
        timeoutMs,
      );
      const off = onLine((l) => {
        if (!pred(l)) return;
        off();
        clearTimeout(timer);
        resolve(l);
      });
      void exited.then((code) => reject(new Error(`operator exited with ${code}:\n${text}`)));
    });
  return {
    child: child as ChildProcess & { pid: number },
    onLine: replayAndListen,
    waitFor,
    output: () => text,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function spawnClients(args: object): Promise<ChildProcess> {
  const child = spawn(process.execPath, [here('./sync-clients-process.ts'), JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`sync-clients-process exited with ${code}`)));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
