// Shared by the operator-*.test.ts files: a control plane with Turnout's CRDs, kubectl helpers that
// fail with kubectl's own words, and a SyncReporter the test drives by hand.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SidecarSyncState, SyncReporter } from '../../operator/contract.ts';
import { type CommandResult, type ControlPlane, startControlPlane } from '../helpers/control-plane.ts';

export function ok(result: CommandResult): string {
  assert.equal(result.code, 0, `command failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Retries until `check` holds: the operator converges asynchronously. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `\nlast error: ${last.message}` : '';
      assert.fail(`${what}: not true after ${timeoutMs} ms${why}`);
    }
    await sleep(200);
  }
}

/** A control plane with crds/ applied and established. */
export async function startTurnoutControlPlane(controllerManager = false): Promise<ControlPlane> {
  const cp = await startControlPlane({ controllerManager });
  ok(await cp.kubectl(['apply', '-f', 'crds/']));
  ok(
    await cp.kubectl([
      'wait',
      '--for=condition=Established',
      'crd/modelproviders.turnout.dev',
      'crd/routingpolicies.turnout.dev',
      '--timeout=60s',
    ]),
  );
  return cp;
}

export async function apply(cp: ControlPlane, ...objects: object[]): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  ok(await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) }));
}

export interface K8sObject {
  metadata: {
    name: string;
    generation?: number;
    annotations?: Record<string, string>;
  };
  status?: {
    observedGeneration?: number;
    snapshotVersion?: string;
    sidecars?: { selected: number; synced: number; stale: number; rejected: number };
    conditions?: {
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
    }[];
  };
}

export async function getObject(
  cp: ControlPlane,
  ns: string,
  kind: string,
  name: string,
): Promise<K8sObject> {
  return JSON.parse(ok(await cp.kubectl(['-n', ns, 'get', kind, name, '-o', 'json']))) as K8sObject;
}

export function condition(obj: K8sObject, type: string) {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the object's `type` condition has `status` for its current generation; returns the object. */
export async function waitForCondition(
  cp: ControlPlane,
  ns: string,
  kind: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
): Promise<K8sObject> {
  return eventually(`${kind} ${ns}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`, async () => {
    const obj = await getObject(cp, ns, kind, name);
    const c = condition(obj, type);
    const current = c?.observedGeneration === obj.metadata.generation;
    return current && c?.status === status && (reason === undefined || c.reason === reason) ? obj : undefined;
  });
}

export async function createNamespace(cp: ControlPlane, ns: string, labels: Record<string, string> = {}) {
  await apply(cp, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
}

export const mockProvider = (ns: string, name = 'sim') => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: { name, namespace: ns },
  spec: { type: 'mock', models: [{ name: 'sim-small' }] },
});

export const policy = (
  ns: string,
  name: string,
  provider: string,
  model: string,
  selector?: Record<string, string>,
) => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'RoutingPolicy',
  metadata: { name, namespace: ns },
  spec: {
    ...(selector && { workloadSelector: { matchLabels: selector } }),
    routes: [{ name: 'main', match: { model: ['*'] }, targets: [{ provider, model }] }],
  },
});

/** A SyncReporter the test drives: set what each sidecar reports, then the operator is told. */
export class FakeSyncReporter implements SyncReporter {
  readonly #states = new Map<string, Map<string, SidecarSyncState>>();
  readonly #listeners = new Set<(namespace: string) => void>();

  sidecars(namespace: string): SidecarSyncState[] {
    return [...(this.#states.get(namespace)?.values() ?? [])];
  }

  onChange(listener: (namespace: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  report(state: Omit<SidecarSyncState, 'lastSeen' | 'connected'> & { connected?: boolean }): void {
    let ns = this.#states.get(state.namespace);
    if (!ns) this.#states.set(state.namespace, (ns = new Map<string, SidecarSyncState>()));
    ns.set(state.pod, { connected: true, ...state, lastSeen: new Date().toISOString() });
    for (const l of this.#listeners) l(state.namespace);
  }
}
