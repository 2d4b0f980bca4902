// The seam between the operator's two halves: the reconciler (watches the apiserver, compiles, writes
// status) and the push server (holds sidecar connections, serves snapshots, collects ACK/NACK). Each
// side depends only on these interfaces, so either can be tested with a fake of the other.
import type { CompiledNamespace } from './compile/index.ts';
import type { SpendReport, SpendReportAnswer } from './push/spend-protocol.ts';

/** Label that opts a pod into injection (on the pod or its namespace). */
export const INJECT_LABEL = 'turnout.dev/inject';
/** Audience of the projected ServiceAccount token a sidecar presents to the operator. */
export const TOKEN_AUDIENCE = 'turnout';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
}

/** What the reconciler offers the push server. */
export interface DesiredState {
  /** The latest compilation of a namespace's accepted objects; undefined when it has none. */
  compiled(namespace: string): CompiledNamespace | undefined;
  /** A pod known to carry (or be in a namespace carrying) the injection label. */
  pod(namespace: string, name: string): PodIdentity | undefined;
  /** A strictly increasing number for ordering snapshots, also across leader changes. */
  revision(namespace: string): number;
  /** Fires whenever compiled(), revision() or a pod of the namespace may have changed. */
  onChange(listener: (namespace: string) => void): () => void;
}

export interface SidecarSyncState {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  connected: boolean;
  /** Snapshot version (content hash) the sidecar last acknowledged and now serves. */
  ackedVersion?: string;
  /** The last version it refused, and why (it keeps serving ackedVersion). */
  rejected?: { version: string; message: string };
  lastSeen: string;
}

/** What the push server reports back, for RoutingPolicy status. */
export interface SyncReporter {
  sidecars(namespace: string): SidecarSyncState[];
  onChange(listener: (namespace: string) => void): () => void;
  /** Fleet budgets, when the push server collects spend (operator/budgets/README.md). */
  fleetSpend?: FleetSpendStatus;
}

/** One entry of RoutingPolicy `status.spend`. */
export interface SpendStatusEntry {
  budget: string;
  /** The scope's header value as /metrics shows it (redacted, cut, hashed: scope-label.ts); absent for "policy". */
  scopeKey?: string;
  windowStart: string;
  /** Fleet total in USD, a decimal string: "12.34". */
  usedUSD: string;
}

/** Fleet budgets as the leader's status pass sees them: what to persist, and the status to seed from. */
export interface FleetSpendStatus {
  /** The namespace's compilation and live injected pods (who may hold a lease), on every status pass. */
  observe(namespace: string, compiled: CompiledNamespace | undefined, pods: readonly PodIdentity[]): void;
  /** Seeds a policy's fleet spend from its stored status, once per leadership term. */
  seed(namespace: string, policy: string, status: unknown): void;
  /**
   * `status.spend` for a policy now; call `written()` once the apiserver holds exactly these entries.
   * Undefined: not known this term (not seeded), leave status.spend as it is.
   */
  statusSpend(
    namespace: string,
    policy: string,
  ): { entries: SpendStatusEntry[]; written(): void } | undefined;
}

/** What the push server offers fleet budgets: its open streams, and a way to send each its `spend` event. */
export interface SpendStreams {
  /** Open streams of a namespace, with the sidecar process (x-turnout-instance) holding each. */
  streams(namespace: string): { pod: PodIdentity; instance: string | undefined }[];
  /** Sends every open stream of the namespace its `spend` event again (unchanged events are skipped). */
  push(namespace: string): void;
}

/** Fleet budgets as the push server sees them: spend reports in, `spend` events out. */
export interface SpendCollector {
  /** Undefined: not ready to judge the report yet (no status pass over the namespace): retry. */
  report(pod: PodIdentity, report: SpendReport): SpendReportAnswer | undefined;
  /** `data` of the `spend` event for one open stream; `opening` when it just connected. */
  eventFor(pod: PodIdentity, instance: string | undefined, opening: boolean): string | undefined;
  /** A stream of the namespace opened or closed. */
  streamsChanged(namespace: string): void;
  attach(streams: SpendStreams): void;
}
