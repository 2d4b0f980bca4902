// Runs the real `turnout` CLI as a child process, the way a user does, and reads what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export interface TurnoutProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first output line matching, past or future. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

export async function startTurnout(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TurnoutProcess> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLine = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = text.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${text}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const serving = await Promise.race([
    waitForLine(/serving http:\/\//),
    exited.then((code) => Promise.reject(new Error(`turnout exited with ${code} before serving:\n${text}`))),
  ]);
  const url = /serving (http:\/\/\S+)/.exec(serving)?.[1] ?? '';
  return {
    url,
    child,
    output: () => text,
    waitForLine,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A temporary directory of manifests; `write` replaces a file the way an editor save does. */
export async function configDir(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-config-'));
  const write = (name: string, content: string) => writeFile(join(dir, name), content);
  for (const [name, content] of Object.entries(files)) await write(name, content);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}
