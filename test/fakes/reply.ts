import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One response in flight. It tells a client abort from a cut the fake made itself, and gives pauses
 * a signal so a hung or stalled response ends as soon as the client or close() does.
 */
export class Reply {
  readonly res: ServerResponse;
  #controller: AbortController | undefined;
  #closed = false;
  #cutByFake = false;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get cutByFake(): boolean {
    return this.#cutByFake;
  }

  /** Called on the response's 'close' event. */
  markClosed(): void {
    this.#closed = true;
    this.#controller?.abort();
  }

  // Created on first use so the fast path allocates no controller.
  get #signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#closed) this.#controller.abort();
    return this.#controller.signal;
  }

  /** Resolves false when the response closed during the pause. */
  async pause(ms: number): Promise<boolean> {
    if (this.#closed) return false;
    if (ms <= 0) return true;
    try {
      await sleep(ms, undefined, { signal: this.#signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Waits until the client or close() ends the response. */
  async untilClosed(): Promise<void> {
    if (this.#closed) return;
    const signal = this.#signal;
    if (!signal.aborted) await once(signal, 'abort');
  }

  /** Writes with backpressure; false once the response has closed. */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.#closed) return false;
    if (this.res.write(data)) return true;
    try {
      await once(this.res, 'drain', { signal: this.#signal });
      return true;
    } catch {
      return false;
    }
  }

  /** TCP reset before any response, as a crashing upstream or a dropped connection looks. */
  reset(): void {
    this.#cutByFake = true;
    const socket = this.res.socket;
    if (socket === null) this.res.destroy();
    else socket.resetAndDestroy();
  }

  /** Ends the connection after what was written is flushed, leaving the body incomplete. */
  cut(): void {
    this.#cutByFake = true;
    const socket = this.res.socket;
    if (socket === null) this.res.destroy();
    else socket.end(() => socket.destroy());
  }
}
