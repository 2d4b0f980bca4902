// Turnout's sidecar as a bench gateway: `turnout dev` on a directory of manifests written for the routes,
// in its own process, optionally pinned with taskset — built JavaScript with the Node settings a pod's
// sidecar gets (bench/pod-settings.ts), as the image runs it; the TS source if the build fails.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForBench } from '../build.ts';
import { podSettings } from '../pod-settings.ts';
import { here } from '../processes.ts';
import type { Gateway, GatewayRoutes, GatewayStartOptions, RunningGateway } from './gateway.ts';

/**
 * Timeouts the bench configures, tighter than the product defaults because the fakes answer in
 * milliseconds: a hung upstream is abandoned within seconds, so a failover still fits the scorecard's
 * deadline. Connect, first token and idle bound each attempt; `total` bounds a non-stream attempt, and
 * the route's total bounds all attempts of one request together.
 */
const PROVIDER_TIMEOUTS = '{ connect: 2s, firstToken: 2s, idle: 2s, total: 4s }';
const ROUTE_TIMEOUTS = '{ total: 9s }';
const RETRY = '{ attempts: 2, backoff: { base: 200ms, max: 2s } }';

function provider(name: string, url: string, model: string): string {
  return `apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${name}, namespace: bench }
spec:
  type: openai
  endpoint: ${url}/v1
  auth: { secretRef: { name: keys, key: apiKey } }
  timeouts: ${PROVIDER_TIMEOUTS}
  models: [{ name: ${model}, pricing: { input: 0.15, output: 0.6 } }]
`;
}

/** The manifests for one route: the primary as the target, the fallback (when given) as its fallback. */
export function turnoutManifests(routes: GatewayRoutes): string {
  const docs = [
    'apiVersion: v1\nkind: Secret\nmetadata: { name: keys, namespace: bench }\nstringData: { apiKey: sk-bench }\n',
    provider('primary', routes.primaryUrl, routes.model),
  ];
  if (routes.fallbackUrl !== undefined) docs.push(provider('fallback', routes.fallbackUrl, routes.model));
  const fallbacks =
    routes.fallbackUrl === undefined
      ? ''
      : `\n      fallbacks: [{ provider: fallback, model: ${routes.model} }]`;
  docs.push(`apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: bench, namespace: bench }
spec:
  routes:
    - name: main
      match: { model: [${JSON.stringify(routes.model)}] }
      targets: [{ provider: primary, model: ${routes.model} }]${fallbacks}
      retry: ${RETRY}
      timeouts: ${ROUTE_TIMEOUTS}
`);
  return docs.join('---\n');
}

async function startTurnoutDev(routes: GatewayRoutes, options: GatewayStartOptions): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-gateway-'));
  await writeFile(join(dir, 'bench.yaml'), turnoutManifests(routes));
  const nodeArgs = [built.cli ?? here('../cli/main.ts'), 'dev', '--config', dir, '--listen', '127.0.0.1:0'];
  // taskset execs node in place, so the child's pid is the server's pid either way.
  const [command, args] =
    options.cpus === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', options.cpus, process.execPath, ...nodeArgs]];
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(built.env ?? {}) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving (http:\/\/\S+)/.exec(output);
      if (m?.[1] && /loaded snapshot/.test(output)) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume(); // decision lines keep coming; nobody reads them
        resolve(m[1]);
      }
    });
    void exited.then(() => reject(new Error(`turnout dev exited before serving:\n${output}`)));
  });
  return {
    baseUrl: `${url}/v1`,
    headers: {},
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const built: { cli?: string; env?: Readonly<Record<string, string>> } = {};

export const turnoutGateway: Gateway = {
  name: 'turnout',
  async version() {
    const pkg = JSON.parse(await readFile(here('../package.json'), 'utf8')) as { version: string };
    return pkg.version;
  },
  // Part of this repository: built once per bench process, as the image builds it.
  async ensureInstalled() {
    if (built.cli !== undefined) return;
    const build = await buildForBench(here('./out/dist-gateway'));
    built.cli = build.cli;
    built.env = { ...(await podSettings()).env };
  },
  start: (routes, options = {}) => startTurnoutDev(routes, options),
};
