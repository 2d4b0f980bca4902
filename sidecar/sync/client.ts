// The sidecar's side of the push protocol (operator/push/README.md). Serves the last good snapshot from
// disk before the operator is ever reached; then holds a stream to the operator, loads each snapshot that
// validates and ACKs it, NACKs any that does not (and keeps serving the previous one), and reconnects
// with backoff, telling the server what it has so nothing is re-sent needlessly.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventSourceMessage } from 'eventsource-parser';
import { EVENT_PING, EVENT_SNAPSHOT } from '../../operator/push/protocol.ts';
import { EVENT_SPEND } from '../../operator/push/spend-protocol.ts';
import type { SnapshotStore } from '../snapshot/store.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { Connection, StreamRefused } from './connection.ts';
import { LatestSaver, SnapshotFile } from './snapshot-file.ts';
import { parseJson, parseSnapshot } from './snapshot-schema.ts';
import type { SpendLedger } from './spend-reporter.ts';
import { SpendSync } from './spend-sync.ts';

export type SyncLog = (event: string, fields: Record<string, unknown>) => void;

export interface SyncClientOptions {
  operatorUrl: string;
  /** PEM bundle to verify the operator with; system roots when absent. */
  caFile?: string;
  tokenFile: string;
  namespace: string;
  pod: string;
  store: SnapshotStore;
  /** Where the last good snapshot is kept; no persistence when absent. */
  stateDir?: string;
  backoff?: BackoffOptions;
  /** Reconnect when nothing (not even a ping) arrived for this long. Default 45 s (pings: 15 s). */
  idleTimeoutMs?: number;
  /** Fleet budgets: report this ledger's spend and feed it the fleet's. Off when absent. */
  ledger?: SpendLedger;
  /** How often spend is reported while it changes. Default 1 s. */
  spendIntervalMs?: number;
  log?: SyncLog;
}

export interface SyncStatus {
  connected: boolean;
  version: string | undefined;
  revision: number;
}

export interface SyncClient {
  readonly status: SyncStatus;
  close(): Promise<void>;
}

export async function startSyncClient(opts: SyncClientOptions): Promise<SyncClient> {
  const client = new Client(opts);
  await client.restore();
  client.run();
  return client;
}

class Client implements SyncClient {
  readonly #o: SyncClientOptions;
  readonly #log: SyncLog;
  readonly #saver: LatestSaver | undefined;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  readonly #spend: SpendSync | undefined;
  #conn: Connection | undefined;
  #connected = false;
  #revision = 0;
  #loop: Promise<void> = Promise.resolve();

  constructor(opts: SyncClientOptions) {
    this.#o = opts;
    this.#log = opts.log ?? (() => undefined);
    this.#saver =
      opts.stateDir !== undefined
        ? new LatestSaver(new SnapshotFile(opts.stateDir), (path, e) =>
            // Serving matters more than the copy on disk: the ACK stands, but say so.
            this.#log('sync.persist_failed', { path, error: message(e) }),
          )
        : undefined;
    this.#backoff = new Backoff(opts.backoff);
    this.#spend = opts.ledger && new SpendSync(opts.ledger, opts.spendIntervalMs ?? 1000, this.#log);
  }

  get status(): SyncStatus {
    return { connected: this.#connected, version: this.#o.store.snapshot?.version, revision: this.#revision };
  }

  async restore(): Promise<void> {
    const file = this.#saver?.file;
    if (!file) return;
    try {
      const saved = await file.read(this.#o.namespace);
      if (!saved) return;
      this.#o.store.load(saved.snapshot);
      this.#revision = saved.revision;
      this.#log('sync.restored', {
        version: saved.snapshot.version,
        revision: saved.revision,
        path: file.path,
      });
    } catch (e) {
      this.#log('sync.restore_failed', { path: file.path, error: message(e) });
    }
  }

  run(): void {
    this.#loop = this.#runLoop();
  }

  async close(): Promise<void> {
    // The spend of the last seconds still counts for the fleet: report it before the stream goes.
    if (this.#conn && this.#spend) await this.#spend.flush(this.#conn);
    this.#stop.abort();
    await this.#loop;
    // The last snapshot loaded is on disk before close resolves.
    await this.#saver?.idle();
  }

  async #runLoop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let reason: string;
      try {
        await this.#session(signal);
        reason = 'stream ended by the operator';
      } catch (e) {
        reason = e instanceof StreamRefused ? `refused with ${e.status}: ${e.message}` : message(e);
      }
      this.#connected = false;
      if (signal.aborted) break;
      const delayMs = this.#backoff.next();
      this.#log('sync.disconnected', { reason, retryInMs: delayMs });
      await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async #session(signal: AbortSignal): Promise<void> {
    const conn = await Connection.open({
      operatorUrl: this.#o.operatorUrl,
      tokenFile: this.#o.tokenFile,
      namespace: this.#o.namespace,
      pod: this.#o.pod,
      idleTimeoutMs: this.#o.idleTimeoutMs ?? 45_000,
      ...(this.#o.caFile !== undefined && { caFile: this.#o.caFile }),
      ...(this.#spend && { instance: this.#spend.reporter.instance }),
    });
    const session = new AbortController();
    this.#conn = conn;
    const reporting = this.#spend?.run(conn, session.signal);
    try {
      const have = { version: this.#o.store.snapshot?.version, revision: this.#revision };
      await conn.stream(have, (e) => this.#onEvent(conn, e), signal);
    } finally {
      session.abort();
      await reporting;
      this.#conn = undefined;
      await conn.close();
    }
  }

  async #onEvent(conn: Connection, e: EventSourceMessage): Promise<void> {
    if (!this.#connected) {
      // The first event (the server pings at once) proves the stream is up: reset the backoff.
      this.#connected = true;
      this.#backoff.reset();
      this.#log('sync.connected', {
        operator: this.#o.operatorUrl,
        have: this.#o.store.snapshot?.version ?? null,
      });
    }
    if (e.event === EVENT_SNAPSHOT) await this.#onSnapshot(conn, e.data);
    else if (e.event === EVENT_SPEND) this.#spend?.event(e.data);
    else if (e.event !== EVENT_PING) this.#log('sync.unknown_event', { event: e.event ?? 'message' });
  }

  async #onSnapshot(conn: Connection, data: string): Promise<void> {
    let version = 'unknown';
    let revision = 0;
    try {
      const event = parseJson(data, 'the snapshot event') as {
        revision?: unknown;
        snapshot?: { version?: unknown };
      };
      if (typeof event.snapshot?.version === 'string' && event.snapshot.version.length <= 200)
        version = event.snapshot.version || 'unknown';
      if (typeof event.revision !== 'number' || !Number.isSafeInteger(event.revision) || event.revision < 0)
        throw new Error('event revision must be a whole number');
      revision = event.revision;
      // Validated even when it is the version already served: a mangled copy is still worth a NACK.
      const snapshot = parseSnapshot(event.snapshot, this.#o.namespace);
      if (version !== this.#o.store.snapshot?.version) {
        this.#o.store.load(snapshot);
        this.#log('sync.loaded', {
          version,
          revision,
          policies: snapshot.policies.length,
          providers: snapshot.providers.length,
        });
      }
      this.#revision = revision;
    } catch (e) {
      const error = message(e).slice(0, 2000);
      this.#log('sync.rejected', {
        version,
        revision,
        error,
        serving: this.#o.store.snapshot?.version ?? null,
      });
      await this.#answer(conn, { version, revision, ok: false, error });
      return;
    }
    // The ACK says "this sidecar serves this version", which is true once it is loaded. The copy on
    // disk only matters to a restart while the operator is unreachable: it is written after the ACK,
    // off the path of a push that 50 sidecars on one node answer at once.
    await this.#answer(conn, { version, revision, ok: true });
    const snapshot = this.#o.store.snapshot;
    if (snapshot) this.#saver?.save({ revision, snapshot });
  }

  async #answer(conn: Connection, body: { version: string; revision: number; ok: boolean; error?: string }) {
    const failed = await conn.ack(body);
    if (failed) this.#log('sync.ack_failed', { version: body.version, ok: body.ok, error: failed });
  }
}

/** Error text for logs and NACKs. Never a snapshot's content: parse errors name paths, not values. */
function message(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
}
