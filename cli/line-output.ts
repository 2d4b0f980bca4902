// Line output for the CLI's long-running commands. A write to a pipe is a synchronous syscall in Node on
// Linux, and a decision line per call made it the largest single CPU cost of a proxied call (~50 µs of
// ~550 µs in bench/RESULTS.md's profile). Lines are therefore collected and written together: after at
// most `flushMs`, when `maxLines` are waiting, and on exit — so nothing is lost, only delayed by a few
// milliseconds. Code that writes to the same stream directly flushes first, which keeps the order.

export interface LineSink {
  write(chunk: string): unknown;
}

export interface BatchedLinesOptions {
  flushMs?: number;
  maxLines?: number;
}

export class BatchedLines {
  readonly #sink: LineSink;
  readonly #flushMs: number;
  readonly #maxLines: number;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(sink: LineSink, opts: BatchedLinesOptions = {}) {
    this.#sink = sink;
    this.#flushMs = opts.flushMs ?? 25;
    this.#maxLines = opts.maxLines ?? 256;
  }

  /** Queues one line (without its newline). */
  line(text: string): void {
    this.#pending.push(text);
    if (this.#pending.length >= this.#maxLines) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs).unref();
  }

  /** Writes everything queued, at once. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    this.#sink.write(text);
  }
}

let stdoutLines: BatchedLines | undefined;

/**
 * The process's batched stdout. Flushed on exit: stdout writes to pipes and files are synchronous in
 * Node, so the last lines reach the reader even from an exit handler.
 */
export function stdoutBatch(): BatchedLines {
  if (!stdoutLines) {
    const lines = new BatchedLines(process.stdout);
    process.once('exit', () => lines.flush());
    stdoutLines = lines;
  }
  return stdoutLines;
}
