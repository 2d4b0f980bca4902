// `turnout sidecar` as a pod runs it: policies pushed by the operator's real push server (its own
// process, bench/push-server-process.ts, fed the one-route bench policy through the real compiler), a
// service-account token, the operator's CA, a state directory the snapshot is persisted to. Benchmarks
// that speak for the shipped sidecar's memory start it this way rather than as `turnout dev`, which also
// loads the YAML parser and the policy compiler a pod never runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPolicyYaml, here, nodeCommand, type NodeProcessOptions, type Started } from './processes.ts';
import { sleep } from './rss.ts';

const READY_TIMEOUT_MS = 20_000;

interface PushServerInfo {
  url: string;
  caFile: string;
  tokenFile: string;
  namespace: string;
  pod: string;
}

/** Resolves with the first stdout line of `child` that `parse` accepts. */
function firstLine<T>(child: ChildProcess, parse: (line: string) => T | undefined, what: string): Promise<T> {
  let out = '';
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const value = parse(line);
        if (value === undefined) continue;
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(value);
        return;
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

/** Waits until the pushed policy is loaded: /readyz answers 200 only once a snapshot is serving. */
async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`turnout sidecar not ready after ${READY_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exited;
}

/** `turnout sidecar` (cli: its entry point, built or source) following a real push server. */
export async function startPodSidecar(
  upstreamUrl: string,
  cli: string,
  opts: NodeProcessOptions = {},
): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-bench-pod-'));
  const yamlFile = join(dir, 'bench.yaml');
  await writeFile(yamlFile, benchPolicyYaml(upstreamUrl));
  const push = spawn(process.execPath, [here('./push-server-process.ts'), dir, yamlFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const children: ChildProcess[] = [push];
  const cleanup = async () => {
    for (const c of children.reverse()) await stopChild(c);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const operator = await firstLine(
      push,
      (line) => (line.startsWith('{') ? (JSON.parse(line) as PushServerInfo) : undefined),
      'push-server-process',
    );
    const sidecar = spawn(...nodeCommand(opts, [cli, 'sidecar']), {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        ...opts.env,
        TURNOUT_OPERATOR_URL: operator.url,
        TURNOUT_CA_FILE: operator.caFile,
        TURNOUT_TOKEN_FILE: operator.tokenFile,
        TURNOUT_POD_NAMESPACE: operator.namespace,
        TURNOUT_POD_NAME: operator.pod,
        TURNOUT_STATE_DIR: join(dir, 'state'),
        TURNOUT_LISTEN: '127.0.0.1:0',
      },
    });
    children.push(sidecar);
    const url = await firstLine(
      sidecar,
      (line) => /"msg":"serving".*?"url":"(http:\/\/[^"]+)"/.exec(line)?.[1],
      'turnout sidecar',
    );
    await untilReady(url);
    return { url: `${url}/v1`, child: sidecar, stop: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
