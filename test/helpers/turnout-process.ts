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

export interface ConfigDir {
  dir: string;
  write(name: string, content: string): Promise<void>;
  remove(): Promise<void>;
}

/** A temporary directory of manifests; `write` replaces a file the way an editor save does. */
export async function configDir(files: Record<string, string>): Promise<ConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-config-'));
  const write = (name: string, content: string) => writeFile(join(dir, name), content);
  for (const [name, content] of Object.entries(files)) await write(name, content);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `turnout dev` serving a config dir of its own. */
export interface DevTurnout extends TurnoutProcess {
  config: ConfigDir;
  /** Writes a manifest and waits until the sidecar has loaded the snapshot it makes. */
  reload(file: string, content: string): Promise<void>;
  /** Stops the process, then removes its config dir. */
  close(): Promise<void>;
}

export interface DevOptions {
  /** More `turnout dev` flags (--json, --max-body-bytes…). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Resolve once serving, before any snapshot loaded (default: after the first "loaded snapshot"). */
  servingOnly?: boolean;
}

/** `turnout dev --listen 127.0.0.1:0` on a fresh config dir of `files`, once it has loaded them. */
export async function startDev(files: Record<string, string>, options: DevOptions = {}): Promise<DevTurnout> {
  const config = await configDir(files);
  const args = ['dev', '--config', config.dir, '--listen', '127.0.0.1:0', ...(options.args ?? [])];
  const turnout = await startTurnout(args, options.env).catch(async (e: unknown) => {
    await config.remove();
    throw e;
  });
  const loads = () => turnout.output().match(/loaded snapshot/g)?.length ?? 0;
  const dev: DevTurnout = {
    ...turnout,
    config,
    async reload(file, content) {
      const before = loads();
      await config.write(file, content);
      await waitFor(() => loads() > before, `the edit of ${file} to be loaded`, turnout.output);
    },
    async close() {
      await turnout.stop();
      await config.remove();
    },
  };
  if (options.servingOnly !== true)
    await dev.waitForLine(/loaded snapshot/).catch(async (e: unknown) => {
      await dev.close();
      throw e;
    });
  return dev;
}

/** The `turnout dev` processes a test file starts, to close them all in its `after` hook. */
export function devProcesses() {
  const running: DevTurnout[] = [];
  return {
    async start(files: Record<string, string>, options?: DevOptions): Promise<DevTurnout> {
      const dev = await startDev(files, options);
      running.push(dev);
      return dev;
    },
    async closeAll(): Promise<void> {
      for (const dev of running.splice(0)) await dev.close();
    },
  };
}

async function waitFor(done: () => boolean, what: string, output: () => string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
