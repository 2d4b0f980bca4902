// Per-pod sync state, as the reconciler reads it for RoutingPolicy status (like `istioctl proxy-status`):
// which sidecars are connected, what each acknowledged and serves, what each refused and why.
import type { PodIdentity, SidecarSyncState, SyncReporter } from '../contract.ts';
import { MAX_NACK_MESSAGE, type AckBody } from './protocol.ts';

interface Sent {
  revision: number;
  sentAt: number;
}

interface PodRecord {
  uid: string;
  state: SidecarSyncState;
  connections: number;
  /** Versions sent and not yet answered; an ACK for anything else is not ours to record. */
  pending: Map<string, Sent>;
  ackedRevision: number;
  rejectedRevision: number;
}

export type AckOutcome =
  { recorded: true; latencyMs: number | undefined } | { recorded: false; reason: string };

const MAX_PENDING = 16;

export class SyncTracker implements SyncReporter {
  readonly #pods = new Map<string, PodRecord>();
  readonly #listeners = new Set<(namespace: string) => void>();

  sidecars(namespace: string): SidecarSyncState[] {
    return [...this.#pods.values()]
      .filter((r) => r.state.namespace === namespace)
      .map((r) => structuredClone(r.state))
      .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  }

  onChange(listener: (namespace: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  connected(pod: PodIdentity): void {
    const r = this.#record(pod);
    r.connections++;
    r.state.connected = true;
    this.#touch(r);
  }

  disconnected(pod: PodIdentity): void {
    const r = this.#pods.get(key(pod));
    if (!r || r.uid !== pod.uid) return;
    r.connections = Math.max(0, r.connections - 1);
    r.state.connected = r.connections > 0;
    if (r.connections === 0) r.pending.clear();
    this.#touch(r);
  }

  /** The sidecar reported on connect that it already serves `version`: no push needed, it is synced. */
  serving(pod: PodIdentity, version: string, revision: number): void {
    const r = this.#record(pod);
    this.#accept(r, version, revision);
    this.#touch(r);
  }

  sent(pod: PodIdentity, version: string, revision: number): void {
    const r = this.#record(pod);
    r.state.labels = { ...pod.labels };
    r.pending.set(version, { revision, sentAt: performance.now() });
    if (r.pending.size > MAX_PENDING) r.pending.delete(r.pending.keys().next().value as string);
  }

  /** Liveness only: refreshes lastSeen without notifying (a ping is not a status change). */
  seen(pod: PodIdentity): void {
    const r = this.#pods.get(key(pod));
    if (r && r.uid === pod.uid) r.state.lastSeen = new Date().toISOString();
  }

  ack(pod: PodIdentity, body: AckBody): AckOutcome {
    const r = this.#record(pod);
    const sent = r.pending.get(body.version);
    r.pending.delete(body.version);
    if (!body.ok) {
      // Recorded even for a version this process did not send: the refusal is worth showing either way.
      const revision = sent?.revision ?? body.revision;
      if (revision >= r.rejectedRevision) {
        r.state.rejected = { version: body.version, message: truncate(body.error ?? 'no detail given') };
        r.rejectedRevision = revision;
      }
      this.#touch(r);
      return { recorded: true, latencyMs: sent && performance.now() - sent.sentAt };
    }
    if (!sent) return { recorded: false, reason: `version ${body.version} was not sent on this connection` };
    this.#accept(r, body.version, sent.revision);
    this.#touch(r);
    return { recorded: true, latencyMs: performance.now() - sent.sentAt };
  }

  /** Drops pods the reconciler no longer knows, so status counts only live pods. */
  prune(namespace: string, stillKnown: (name: string, uid: string) => boolean): void {
    let changed = false;
    for (const [k, r] of this.#pods) {
      if (r.state.namespace !== namespace || r.connections > 0 || stillKnown(r.state.pod, r.uid)) continue;
      this.#pods.delete(k);
      changed = true;
    }
    if (changed) this.#emit(namespace);
  }

  #accept(r: PodRecord, version: string, revision: number): void {
    // ACKs travel on separate requests and may arrive out of order: an older one never wins.
    if (revision < r.ackedRevision && r.state.ackedVersion !== undefined) return;
    r.state.ackedVersion = version;
    r.ackedRevision = revision;
    for (const [v, s] of r.pending) if (s.revision <= revision) r.pending.delete(v);
    if (r.state.rejected && r.rejectedRevision <= revision) {
      delete r.state.rejected;
      r.rejectedRevision = 0;
    }
  }

  #record(pod: PodIdentity): PodRecord {
    const k = key(pod);
    const existing = this.#pods.get(k);
    // Same name, new uid: a replacement pod, whose sync history starts from nothing.
    if (existing && existing.uid === pod.uid) return existing;
    const fresh: PodRecord = {
      uid: pod.uid,
      state: {
        namespace: pod.namespace,
        pod: pod.name,
        labels: { ...pod.labels },
        connected: false,
        lastSeen: new Date().toISOString(),
      },
      connections: 0,
      pending: new Map(),
      ackedRevision: 0,
      rejectedRevision: 0,
    };
    this.#pods.set(k, fresh);
    return fresh;
  }

  #touch(r: PodRecord): void {
    r.state.lastSeen = new Date().toISOString();
    this.#emit(r.state.namespace);
  }

  #emit(namespace: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(namespace);
      } catch {
        // A listener's failure is its own; the push path must not break because status writing did.
      }
    }
  }
}

const key = (pod: { namespace: string; name: string }) => `${pod.namespace}/${pod.name}`;
const truncate = (s: string) => (s.length > MAX_NACK_MESSAGE ? `${s.slice(0, MAX_NACK_MESSAGE)}…` : s);
