// An upstream response body fed straight from undici's dispatch callbacks. undici's request() wraps
// every body in a Node Readable (and an AsyncResource), and iterating a Readable costs a stream state
// machine, 'readable' events and several promises per chunk. For an SSE answer of many small chunks
// that was the largest share of the sidecar's per-chunk CPU; this queue hands each chunk to the one
// consumer with one promise, and pauses the socket when the consumer falls behind.

/** What an attempt reads from: the chunks in order, and a way to stop reading early. */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  /** Stops the body; an unfinished upstream response is aborted (its connection is not reused). */
  destroy(error?: Error): void;
}

/** The part of undici's DispatchController the body drives. */
export interface FlowControl {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** Chunks held before the socket is paused: enough for a burst of SSE events, bounded for a slow reader. */
const HIGH_WATER_BYTES = 64 * 1024;

interface Waiter {
  resolve(result: IteratorResult<Buffer>): void;
  reject(error: Error): void;
}

export class DispatchedBody implements UpstreamBody, AsyncIterator<Buffer> {
  readonly #flow: FlowControl;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #ended = false;
  #error: Error | undefined;
  #waiter: Waiter | undefined;
  #paused = false;

  constructor(flow: FlowControl) {
    this.#flow = flow;
  }

  // ---- producer side (undici callbacks) ----

  push(chunk: Buffer): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ value: chunk, done: false });
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (!this.#paused && this.#queuedBytes >= HIGH_WATER_BYTES) {
      this.#paused = true;
      this.#flow.pause();
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const err = error instanceof Error ? error : new Error(String(error));
    this.#error = err;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(err);
  }

  // ---- consumer side ----

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#queuedBytes -= chunk.length;
      if (this.#paused && this.#queuedBytes < HIGH_WATER_BYTES / 2) {
        this.#paused = false;
        this.#flow.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** A for-await loop that breaks early lands here: the rest of the answer is not wanted. */
  return(): Promise<IteratorResult<Buffer>> {
    this.destroy();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  destroy(error?: Error): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#ended) return;
    const reason = error ?? new Error('upstream body no longer read');
    this.fail(reason);
    this.#flow.abort(reason);
  }
}
