import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Started {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface NodeProcessOptions {
  /** Node's own flags, before the script (e.g. V8 heap flags). */
  nodeArgs?: readonly string[];
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** The node binary to run; this process's own by default. */
  execPath?: string;
  /** A command the node command line is appended to, e.g. one that joins a cgroup and then execs. */
  launcher?: readonly string[];
}

/** The command and arguments that run node with `args` as `opts` asks. */
export function nodeCommand(opts: NodeProcessOptions, args: readonly string[]): [string, string[]] {
  const line = [opts.execPath ?? process.execPath, ...(opts.nodeArgs ?? []), ...args];
  const [command, ...rest] = [...(opts.launcher ?? []), ...line] as [string, ...string[]];
  return [command, rest];
}

/** Starts a node script and waits for the URL it prints ("listening URL" or "serving URL"). */
export function startNode(
  script: string,
  args: string[] = [],
  opts: NodeProcessOptions = {},
): Promise<Started> {
  const child = spawn(...nodeCommand(opts, [script, ...args]), {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(opts.env && { env: { ...process.env, ...opts.env } }),
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /(?:listening|serving) (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          url: m[1],
          child,
          stop: () =>
            new Promise((r) => {
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

export const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The pass-through as plain JavaScript: type stripping would load the TypeScript stripper into the floor. */
export async function passthroughScript(): Promise<string> {
  const out = here('./out/passthrough-process.mjs');
  const source = await readFile(here('./passthrough-process.ts'), 'utf8');
  await mkdir(here('./out'), { recursive: true });
  await writeFile(out, stripTypeScriptTypes(source));
  return out;
}

/** The one-route policy the latency and memory suites use, pointing at `upstreamUrl`. */
export function benchPolicyYaml(upstreamUrl: string): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: k, namespace: bench }
stringData: { apiKey: sk-bench }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: upstream, namespace: bench }
spec:
  type: openai
  endpoint: ${upstreamUrl}
  auth: { secretRef: { name: k, key: apiKey } }
  models: [{ name: gpt-4o-mini, pricing: { input: 0.15, output: 0.6 } }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: bench, namespace: bench }
spec:
  routes:
    - name: main
      match: { model: ["gpt-4o-mini"] }
      targets: [{ provider: upstream, model: gpt-4o-mini }]
`;
}

/** A directory holding the bench policy, for `turnout dev --config`. */
async function benchConfigDir(upstreamUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-bench-'));
  await writeFile(join(dir, 'bench.yaml'), benchPolicyYaml(upstreamUrl));
  return dir;
}

/** `turnout dev` on a one-route policy to the given upstream, printing its decision lines as it does by default. */
export async function startSidecar(
  upstreamUrl: string,
  cli = here('../cli/main.ts'),
  opts: NodeProcessOptions = {},
): Promise<Started> {
  const dir = await benchConfigDir(upstreamUrl);
  const started = await startNode(cli, ['dev', '--config', dir, '--listen', '127.0.0.1:0'], opts);
  return {
    ...started,
    url: `${started.url}/v1`,
    stop: () => started.stop().then(() => rm(dir, { recursive: true, force: true })),
  };
}
