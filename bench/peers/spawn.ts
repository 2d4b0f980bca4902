// Starting a peer's server the same way for every gateway: optionally pinned with `taskset -c` (which
// execs the command in place, so the pid stays the server's), on a port picked here, ready once it
// accepts TCP connections; stopped with SIGTERM, then SIGKILL if it lingers. Output is kept (bounded)
// so a server that dies before it is ready is reported with what it said.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { sleep } from '../rss.ts';

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** The last few KB of stdout and stderr together. */
  output(): string;
  stop(): Promise<void>;
}

const OUTPUT_KEEP = 16_384;
const STOP_GRACE_MS = 5_000;

/** A port free right now on 127.0.0.1 (for servers that take a port number instead of binding 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function spawnServer(
  command: string,
  args: string[],
  opts: { cpus?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ServerProcess {
  const [cmd, argv] =
    opts.cpus === undefined ? [command, args] : ['taskset', ['-c', opts.cpus, command, ...args]];
  const child = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid ?? 0,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once the server accepts connections on `port`; rejects with its output if it exits or times out. */
export async function waitForPort(server: ServerProcess, port: number, name: string, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(
        `${name} exited (${server.child.exitCode ?? server.child.signalCode}) before serving:\n${server.output()}`,
      );
    if (await accepts(port)) return;
    await sleep(200);
  }
  await server.stop();
  throw new Error(
    `${name} did not accept connections on port ${port} within ${timeoutMs} ms:\n${server.output()}`,
  );
}

/** Resolves with the first match of `pattern` in the server's output (e.g. the URL it prints once listening). */
export async function waitForOutput(
  server: ServerProcess,
  pattern: RegExp,
  name: string,
  timeoutMs = 60_000,
) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const m = pattern.exec(server.output());
    if (m) return m;
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(`${name} exited before serving:\n${server.output()}`);
    await sleep(50);
  }
  await server.stop();
  throw new Error(
    `${name} printed nothing matching ${String(pattern)} within ${timeoutMs} ms:\n${server.output()}`,
  );
}
