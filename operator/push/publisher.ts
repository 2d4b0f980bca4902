// Open snapshot streams, one per pod, and what each sidecar holds. On a change of desired state the
// namespace's streams are re-evaluated (debounced); a pod's snapshot is sent only when its version differs
// from what that sidecar has, and never with an older revision than the sidecar reports.
import type { ServerResponse } from 'node:http';
import { canonicalJson } from '../../api/index.ts';
import { snapshotFor } from '../compile/index.ts';
import type { DesiredState, PodIdentity, SpendCollector } from '../contract.ts';
import type { Authenticated } from './authenticate.ts';
import { Debouncer } from './debounce.ts';
import type { PushMetrics } from './metrics.ts';
import { EVENT_PING, EVENT_SNAPSHOT, type SnapshotEvent } from './protocol.ts';
import { EVENT_SPEND } from './spend-protocol.ts';
import type { SyncTracker } from './sync-tracker.ts';

export type PushLog = (event: string, fields: Record<string, unknown>) => void;

export interface PublisherOptions {
  desired: DesiredState;
  tracker: SyncTracker;
  metrics: PushMetrics;
  debounceMs: number;
  maxDebounceMs: number;
  pingIntervalMs: number;
  acceptStreams: () => boolean;
  /** Fleet budgets: each stream also gets `spend` events. */
  spend?: SpendCollector | undefined;
  log: PushLog;
}

interface Stream {
  pod: PodIdentity;
  res: ServerResponse;
  /** The version the sidecar has: reported on connect, then whatever was last sent. */
  version: string | undefined;
  revision: number;
  tokenExpiresAt: number | undefined;
  /** The sidecar process (x-turnout-instance), when it says. */
  instance: string | undefined;
  /** The last `spend` event data sent, so an unchanged one is not sent again. */
  spendSent: string | undefined;
}

/** Per flush, by canonical labels: the snapshot, and its event as sent (the revision is the flush's). */
type Memo = Map<string, { snapshot: ReturnType<typeof snapshotFor>; json?: string }>;

/** A sidecar this far behind on reading is dropped; it reconnects and resyncs from scratch. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class Publisher {
  readonly #o: PublisherOptions;
  readonly #streams = new Map<string, Map<string, Stream>>();
  readonly #debouncers = new Map<string, Debouncer>();
  readonly #unsubscribe: () => void;
  readonly #pinger: NodeJS.Timeout;

  constructor(opts: PublisherOptions) {
    this.#o = opts;
    this.#unsubscribe = opts.desired.onChange((ns) => this.#debouncer(ns).poke());
    this.#pinger = setInterval(() => this.#pingAll(), opts.pingIntervalMs);
    this.#pinger.unref();
  }

  open(
    auth: Authenticated,
    res: ServerResponse,
    have: string | undefined,
    haveRevision: number,
    instance?: string,
  ): void {
    const { pod } = auth;
    const byPod = this.#streams.get(pod.namespace) ?? new Map<string, Stream>();
    this.#streams.set(pod.namespace, byPod);
    // One stream per pod: a reconnect may arrive before the old connection is noticed dead.
    byPod.get(pod.name)?.res.end();
    const stream: Stream = {
      pod,
      res,
      version: have,
      revision: haveRevision,
      tokenExpiresAt: auth.tokenExpiresAt,
      instance,
      spendSent: undefined,
    };
    byPod.set(pod.name, stream);
    this.#o.tracker.connected(pod);
    this.#o.metrics.connected.inc();
    res.once('close', () => {
      this.#o.metrics.connected.dec();
      if (byPod.get(pod.name) === stream) byPod.delete(pod.name);
      this.#o.tracker.disconnected(pod);
      this.#o.tracker.prune(pod.namespace, (n, uid) => this.#o.desired.pod(pod.namespace, n)?.uid === uid);
      this.#o.spend?.streamsChanged(pod.namespace);
      this.#o.log('stream.closed', { pod: ref(pod) });
    });
    res.socket?.setKeepAlive(true, 30_000);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    this.#o.log('stream.opened', { pod: ref(pod), have: have ?? null, revision: haveRevision });
    // An immediate ping tells the client the stream is established even when nothing needs sending.
    this.#write(stream, EVENT_PING, '{}');
    // Spend before the snapshot: the sidecar holds its leases before it serves a single call.
    this.#sendSpend(stream, true);
    this.#o.spend?.streamsChanged(pod.namespace);
    if (have) this.#o.tracker.serving(pod, have, haveRevision);
    this.#update(stream, new Map() as Memo);
  }

  /** Open streams of a namespace and the sidecar process holding each. */
  streams(namespace: string): { pod: PodIdentity; instance: string | undefined }[] {
    return [...(this.#streams.get(namespace)?.values() ?? [])].map((s) => ({
      pod: s.pod,
      instance: s.instance,
    }));
  }

  /** Sends every open stream of the namespace its current `spend` event, if it changed. */
  pushSpend(namespace: string): void {
    for (const stream of [...(this.#streams.get(namespace)?.values() ?? [])]) this.#sendSpend(stream, false);
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#pinger);
    for (const d of this.#debouncers.values()) d.cancel();
    for (const byPod of this.#streams.values()) for (const s of byPod.values()) s.res.end();
    this.#streams.clear();
  }

  #debouncer(ns: string): Debouncer {
    let d = this.#debouncers.get(ns);
    if (!d) {
      d = new Debouncer(this.#o.debounceMs, this.#o.maxDebounceMs, () => this.#flush(ns));
      this.#debouncers.set(ns, d);
    }
    return d;
  }

  #flush(ns: string): void {
    const { desired, tracker } = this.#o;
    tracker.prune(ns, (name, uid) => desired.pod(ns, name)?.uid === uid);
    // Pods with equal labels get equal snapshots: compute and serialize each once per flush.
    const memo: Memo = new Map();
    for (const stream of [...(this.#streams.get(ns)?.values() ?? [])]) this.#update(stream, memo);
  }

  #update(stream: Stream, memo: Memo): void {
    const { desired, tracker, metrics } = this.#o;
    const { namespace, name, uid } = stream.pod;
    const pod = desired.pod(namespace, name);
    if (!pod || pod.uid !== uid) {
      this.#o.log('stream.ended', { pod: ref(stream.pod), reason: 'pod no longer known' });
      stream.res.end();
      return;
    }
    stream.pod = pod;
    const revision = desired.revision(namespace);
    const labelsKey = canonicalJson(pod.labels);
    let entry = memo.get(labelsKey);
    if (!entry)
      memo.set(
        labelsKey,
        (entry = { snapshot: snapshotFor(desired.compiled(namespace), namespace, pod.labels) }),
      );
    const { snapshot } = entry;
    if (snapshot.version === stream.version) return;
    if (revision < stream.revision) {
      // This server lags the one the sidecar last heard from (e.g. a replica still catching up).
      metrics.staleSkips.inc();
      this.#o.log('push.held', { pod: ref(pod), revision, sidecarRevision: stream.revision });
      return;
    }
    const event: SnapshotEvent = { revision, snapshot };
    entry.json ??= JSON.stringify(event);
    if (!this.#write(stream, EVENT_SNAPSHOT, entry.json)) return;
    stream.version = snapshot.version;
    stream.revision = revision;
    tracker.sent(pod, snapshot.version, revision);
    metrics.pushes.inc();
    this.#o.log('push.sent', { pod: ref(pod), version: snapshot.version, revision });
  }

  #sendSpend(stream: Stream, opening: boolean): void {
    const data = this.#o.spend?.eventFor(stream.pod, stream.instance, opening);
    if (data === undefined || data === stream.spendSent) return;
    if (this.#write(stream, EVENT_SPEND, data)) stream.spendSent = data;
  }

  #pingAll(): void {
    const accepting = this.#o.acceptStreams();
    const now = Date.now();
    for (const byPod of this.#streams.values()) {
      for (const stream of [...byPod.values()]) {
        // The stream was authorised by a token; once that token expires the sidecar must show a fresh one.
        const reason = !accepting
          ? 'this server no longer serves streams'
          : stream.tokenExpiresAt !== undefined && stream.tokenExpiresAt <= now
            ? 'token expired'
            : undefined;
        if (reason) {
          this.#o.log('stream.ended', { pod: ref(stream.pod), reason });
          stream.res.end();
        } else if (this.#write(stream, EVENT_PING, '{}')) this.#o.tracker.seen(stream.pod);
      }
    }
  }

  #write(stream: Stream, event: string, data: string): boolean {
    const { res } = stream;
    if (res.writableEnded || res.destroyed) return false;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.#o.log('stream.ended', { pod: ref(stream.pod), reason: 'sidecar is not reading' });
      res.destroy();
      return false;
    }
    res.write(`event: ${event}\ndata: ${data}\n\n`);
    return true;
  }
}

const ref = (pod: PodIdentity) => `${pod.namespace}/${pod.name}`;
