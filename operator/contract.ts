// The seam between the operator's two halves: the reconciler (watches the apiserver, compiles, writes
// status) and the push server (holds sidecar connections, serves snapshots, collects ACK/NACK). Each
// side depends only on these interfaces, so either can be tested with a fake of the other.
import type { CompiledNamespace } from './compile/index.ts';

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
}
