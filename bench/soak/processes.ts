// The processes a soak drives: the fault-injecting upstream pair and `turnout dev` in front of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { here } from '../processes.ts';
import { readRss } from '../rss.ts';
import { decisionClass, isInternalErrorLine, type LoggedDecision, type Sample } from './verdict.ts';
import { podSettings } from '../pod-settings.ts';

/** Resolves with the first stdout line matching, e.g. the "listening …" a process prints once up. */
function firstLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) {
        child.stdout?.off('data', onData);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

/** Calls `f` with each complete line of a stream. */
function eachLine(stream: NodeJS.ReadableStream, f: (line: string) => void): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) f(p);
  });
}

export interface SoakUpstream {
  primaryUrl: string;
  secondaryUrl: string;
  /** Soak id → the faults injected on its primary attempts. */
  faults: Map<number, string[]>;
  /** Injected faults by kind. */
  injected: Map<string, number>;
  /** Requests the primary has received. */
  primaryCount(): number;
  stop(): Promise<void>;
}

export async function startUpstream(faultRate: number): Promise<SoakUpstream> {
  const child = spawn(process.execPath, [here('./soak/upstream-process.ts'), String(faultRate)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [, primaryUrl = '', secondaryUrl = ''] = await firstLine(
    child,
    /listening (\S+) (\S+)\n/,
    'the soak upstream',
  );
  const faults = new Map<number, string[]>();
  const injected = new Map<string, number>();
  let served = 0;
  eachLine(child.stdout as NodeJS.ReadableStream, (line) => {
    if (!line.startsWith('{')) return;
    const batch = JSON.parse(line) as { faults: [number, string][]; served: number };
    served = batch.served;
    for (const [id, kind] of batch.faults) {
      faults.set(id, [...(faults.get(id) ?? []), kind]);
      injected.set(kind, (injected.get(kind) ?? 0) + 1);
    }
  });
  return {
    primaryUrl,
    secondaryUrl,
    faults,
    injected,
    primaryCount: () => served,
    stop: () => stop(child),
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Primary with the secondary as its fallback, both simulated; breaker and retry defaults as shipped. */
async function soakConfig(primaryUrl: string, secondaryUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-soak-'));
  const provider = (name: string, type: string, url: string, model: string) => `---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${name}, namespace: soak }
spec:
  type: ${type}
  endpoint: ${url}
  auth: { secretRef: { name: keys, key: ${name} } }
  models: [{ name: ${model}, pricing: { input: 0.15, output: 0.6 }, capabilities: [chat, streaming] }]
`;
  await writeFile(
    join(dir, 'soak.yaml'),
    `apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: soak }
stringData: { primary: sk-soak-primary, secondary: sk-soak-secondary }
${provider('primary', 'openai', primaryUrl, 'gpt-4o-mini')}${provider('secondary', 'openai-compatible', secondaryUrl, 'backup-mini')}---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: soak, namespace: soak }
spec:
  routes:
    - name: main
      match: { model: ["soak"] }
      targets: [{ provider: primary, model: gpt-4o-mini }]
      fallbacks: [{ provider: secondary, model: backup-mini }]
`,
  );
  return dir;
}

export interface SoakSidecar {
  url: string;
  pid: number;
  configDir: string;
  /**
   * Decision records the sidecar printed: by HTTP status, by what a caller would have seen
   * (verdict.ts decisionClass), and those that took more than one attempt.
   */
  decisions: { byStatus: Map<number, number>; byClass: Map<string, number>; failedOver: number };
  /** Lines on stderr (internal errors would show here). */
  stderr: string[];
  /** Internal errors the sidecar reported on stderr, however many lines it wrote. */
  internalErrors(): number;
  sample(t: number, inflight: number): Promise<Sample>;
  /** SIGTERM (a graceful shutdown); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startSoakSidecar(
  cli: string,
  primaryUrl: string,
  secondaryUrl: string,
): Promise<SoakSidecar> {
  const configDir = await soakConfig(primaryUrl, secondaryUrl);
  // As a pod runs it: the heap settings the injector gives the chart's default memory limit.
  const { env } = await podSettings();
  const child = spawn(
    process.execPath,
    [cli, 'dev', '--config', configDir, '--listen', '127.0.0.1:0', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  const [, url = ''] = await firstLine(
    child,
    /serving (http:\/\/\S+)[\s\S]*loaded snapshot/,
    '`turnout dev`',
  );
  const pid = child.pid as number;
  const decisions = {
    byStatus: new Map<number, number>(),
    byClass: new Map<string, number>(),
    failedOver: 0,
  };
  eachLine(child.stdout as NodeJS.ReadableStream, (line) => {
    if (!line.startsWith('{')) return;
    const d = JSON.parse(line) as LoggedDecision & { attempts?: unknown[] };
    if (typeof d.status === 'number')
      decisions.byStatus.set(d.status, (decisions.byStatus.get(d.status) ?? 0) + 1);
    const cls = decisionClass(d);
    decisions.byClass.set(cls, (decisions.byClass.get(cls) ?? 0) + 1);
    if ((d.attempts?.length ?? 0) > 1) decisions.failedOver++;
  });
  // The first lines are kept for the report; internal errors are counted however many there are.
  const stderr: string[] = [];
  let internalErrors = 0;
  eachLine(child.stderr as NodeJS.ReadableStream, (line) => {
    if (stderr.length < 200) stderr.push(line);
    if (isInternalErrorLine(line)) internalErrors++;
  });
  // 'close', not 'exit': the decision log lines still in the pipe are read before the run is judged.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    url,
    pid,
    configDir,
    decisions,
    stderr,
    internalErrors: () => internalErrors,
    sample: async (t, inflight) => ({
      t,
      inflight,
      rss: readRss(pid).rss,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      heapUsed: await heapUsed(url),
    }),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
}
