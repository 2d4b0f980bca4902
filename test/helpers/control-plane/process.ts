import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface StartOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * One long-running component (etcd, kube-apiserver, ...) whose stdout+stderr go to a log file.
 * The child writes to the file directly, not through a pipe: no buffering in the test process, and
 * the component never gets SIGPIPE if the test process dies first.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  #child: ChildProcess;
  #exitDescription: string | undefined;
  #exited: Promise<void>;

  private constructor(name: string, logFile: string, child: ChildProcess) {
    this.name = name;
    this.logFile = logFile;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.#exitDescription = `failed to start: ${error.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.#exitDescription = signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
        resolve();
      });
    });
  }

  static start(name: string, bin: string, args: readonly string[], opts: StartOptions): ManagedProcess {
    const fd = openSync(opts.logFile, 'a');
    try {
      const child = spawn(bin, args, {
        stdio: ['ignore', fd, fd],
        detached: false,
        env: opts.env ?? process.env,
      });
      // Unref'd: a test that forgets stop() still lets its process exit, and the exit handlers
      // (see reaper.ts) then kill the component.
      child.unref();
      return new ManagedProcess(name, opts.logFile, child);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Why the process is gone, or undefined while it is still running. */
  get exitDescription(): string | undefined {
    return this.#exitDescription;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exitDescription !== undefined) return;
    this.#child.kill('SIGTERM');
    // Ref'd on purpose: it keeps the event loop alive while we wait for the unref'd child. Cleared
    // afterwards, or it would hold the test process open for the whole grace period.
    const escalate = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(escalate);
  }

  /** Synchronous last resort for exit handlers, where nothing can be awaited. */
  killNow(): void {
    if (this.#exitDescription === undefined) this.#child.kill('SIGKILL');
  }

  async logTail(lines = 40): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
