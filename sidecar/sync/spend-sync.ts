// Drives the SpendReporter over a connection: a report every interval while the stream is up (only when
// spend changed), `spend` events into the ledger, and a last report on shutdown so the spend of a
// sidecar's final seconds is not lost to the fleet.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from './connection.ts';
import { SpendReporter, type SpendLedger } from './spend-reporter.ts';

type Log = (event: string, fields: Record<string, unknown>) => void;

/** A last report gets this long on shutdown; the pod is going away either way. */
const FINAL_REPORT_TIMEOUT_MS = 2000;

export class SpendSync {
  readonly reporter: SpendReporter;
  readonly #intervalMs: number;
  readonly #log: Log;
  #failing = false;

  constructor(ledger: SpendLedger, intervalMs: number, log: Log) {
    this.reporter = new SpendReporter(ledger);
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** Reports until `signal` aborts (the session ended). */
  async run(conn: Connection, signal: AbortSignal): Promise<void> {
    this.reporter.reconnected();
    while (!signal.aborted) {
      await sleep(this.#intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      const result = await this.reporter.report((body) => conn.spend(body));
      if (result === true) {
        if (this.#failing) this.#log('sync.spend_reported', { recovered: true });
        this.#failing = false;
        continue;
      }
      // Logged once per failure streak, not every second.
      if (!this.#failing) this.#log('sync.spend_report_failed', { error: result });
      this.#failing = true;
      // An operator without fleet budgets: nothing to report to on this connection.
      if (result.startsWith('404')) return;
    }
  }

  event(data: string): void {
    try {
      this.reporter.absorb(data);
    } catch (e) {
      this.#log('sync.spend_invalid', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  async flush(conn: Connection): Promise<void> {
    const timeout = sleep(FINAL_REPORT_TIMEOUT_MS, 'timed out' as const);
    const result = await Promise.race([this.reporter.report((body) => conn.spend(body)), timeout]);
    if (result !== true) this.#log('sync.spend_report_failed', { error: result, final: true });
  }
}
