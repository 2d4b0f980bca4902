// Test-only: `turnout sidecar` as a child process, the way the pod runs it, reading its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

export interface SidecarProcess {
  url: string;
  child: ChildProcess;
  lines: LogLine[];
  output(): string;
  /** Resolves with the first line (past or future) that matches. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnSidecar(env: Record<string, string>): Promise<SidecarProcess> {
  const child = spawn(process.execPath, [CLI, 'sidecar'], {
    env: { ...process.env, TURNOUT_LISTEN: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ msg: 'unparsed', text: p });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (pred: (l: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(pred);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching line within ${timeoutMs} ms; output:\n${text}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const serving = await Promise.race([
    waitFor((l) => l.msg === 'serving'),
    exited.then((code) => Promise.reject(new Error(`turnout sidecar exited with ${code}:\n${text}`))),
  ]);
  return {
    url: String(serving.url),
    child,
    lines,
    output: () => text,
    waitFor,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
