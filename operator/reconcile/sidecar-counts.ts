// Which selected sidecars run what they should. A sidecar is synced when it acknowledged the snapshot
// its own labels call for now, rejected when it refused exactly that snapshot, and stale otherwise
// (still on an older one, or never connected). Disconnected sidecars that acked it still count as
// synced: they keep serving the acknowledged snapshot. Only pods running the sidecar are selected; pods
// injection selects that lack it (they predate the opt-in, or the webhook was down) are counted apart.
import { selects, snapshotFor, type CompiledNamespace } from '../compile/index.ts';
import type { PodIdentity, SidecarSyncState } from '../contract.ts';

export interface SidecarCounts {
  selected: number;
  synced: number;
  stale: number;
  rejected: number;
  /** "pod: message" for each sidecar that refused its snapshot. */
  rejections: string[];
  /** Pods the selector matches that injection selects but that run no sidecar (counted nowhere else). */
  withoutSidecar?: number;
}

/** Memoises the expected snapshot version per label set: many pods share their labels. */
/**
 * Snapshot versions by labels, per compilation. The controller hands status the stored compilation
 * while its content is unchanged, so a status pass (one per burst of ACKs) does not rebuild and hash a
 * snapshot per policy selector — at 1,000 policies, hundreds of snapshots of garbage every pass.
 */
const versionsByCompilation = new WeakMap<CompiledNamespace, Map<string, string>>();

export function expectedVersions(
  compiled: CompiledNamespace | undefined,
  namespace: string,
): (labels: Readonly<Record<string, string>>) => string {
  let memo = compiled && versionsByCompilation.get(compiled);
  if (!memo) {
    memo = new Map<string, string>();
    if (compiled) versionsByCompilation.set(compiled, memo);
  }
  const versions = memo;
  return (labels) => {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let v = versions.get(key);
    if (v === undefined) versions.set(key, (v = snapshotFor(compiled, namespace, labels).version));
    return v;
  };
}

export function countSidecars(
  pods: readonly PodIdentity[],
  selector: Readonly<Record<string, string>> | undefined,
  expected: (labels: Readonly<Record<string, string>>) => string,
  states: ReadonlyMap<string, SidecarSyncState>,
  withoutSidecar: readonly PodIdentity[] = [],
): SidecarCounts {
  const counts: SidecarCounts = { selected: 0, synced: 0, stale: 0, rejected: 0, rejections: [] };
  if (!selector) return counts;
  let missing = 0;
  for (const pod of withoutSidecar) if (selects(selector, pod.labels)) missing++;
  if (missing > 0) counts.withoutSidecar = missing;
  for (const pod of pods) {
    if (!selects(selector, pod.labels)) continue;
    counts.selected++;
    const version = expected(pod.labels);
    const state = states.get(pod.name);
    if (state?.ackedVersion === version) counts.synced++;
    else if (state?.rejected?.version === version) {
      counts.rejected++;
      counts.rejections.push(`${pod.name}: ${state.rejected.message}`);
    } else counts.stale++;
  }
  return counts;
}
