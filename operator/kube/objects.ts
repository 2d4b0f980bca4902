// The boundary between the apiserver and the operator: each object is validated once here with the
// zod schemas of api/, and only the fields the operator uses are kept. An object zod refuses is kept
// too, as its issues, so the reconciler can report it (a condition) instead of crashing or hiding it.
import type { z } from 'zod';
import {
  formatPath,
  modelProvider,
  routingPolicy,
  secret,
  type ModelProvider,
  type RoutingPolicy,
  type Secret,
} from '../../api/index.ts';
import { INJECT_LABEL, type PodIdentity } from '../contract.ts';
import { isInjectedAlready } from '../webhook/pod.ts';
import type { RawObject } from './store.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  resourceVersion: string;
}

export interface Issue {
  path: string;
  message: string;
}

/** A Turnout custom resource as cached: parsed when valid, its issues when not. */
export interface Cached<T> {
  ref: ObjectRef;
  annotations: Readonly<Record<string, string>>;
  /** The status as stored on the apiserver (not validated: only compared and overwritten). */
  status: unknown;
  valid?: T;
  issues: Issue[];
}

export type CachedProvider = Cached<ModelProvider>;
export type CachedPolicy = Cached<RoutingPolicy>;

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const metaOf = (raw: RawObject): Meta => raw.metadata ?? {};

function refOf(m: Meta): ObjectRef {
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    generation: m.generation ?? 0,
    resourceVersion: m.resourceVersion ?? '',
  };
}

/**
 * `kubectl apply` stores the whole applied object, as JSON, in this annotation: a second copy of every
 * spec in the cache, which nothing in the operator reads (controller-runtime's TransformStripManagedFields
 * is the same idea for managedFields).
 */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The annotations worth caching: all but kubectl's copy of the object. */
function keptAnnotations(
  annotations: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (annotations === undefined || !(LAST_APPLIED_ANNOTATION in annotations)) return annotations;
  const { [LAST_APPLIED_ANNOTATION]: _applied, ...kept } = annotations;
  return kept;
}

function cached<T extends { metadata: object }>(
  schema: z.ZodType<T>,
  raw: RawObject,
  previous: Cached<T> | undefined,
): Cached<T> {
  const { status, ...rest } = raw;
  const m = metaOf(raw);
  const reused = sameSpec(previous, m) ? previous : undefined;
  if (reused?.valid) {
    // Only status or resourceVersion moved: the operator's own status patches, about one per policy per
    // push. Validating the unchanged spec again would put a fresh copy of every policy on the heap each time.
    const metadata = { ...reused.valid.metadata, resourceVersion: m.resourceVersion };
    return { ...reused, ref: refOf(m), status, valid: { ...reused.valid, metadata } };
  }
  // managedFields and the like are noise to validation and to memory alike: only what the operator
  // reads is kept (status writes need uid, generation and resourceVersion, all in `ref`).
  const { name, namespace, uid, generation, resourceVersion, labels } = m;
  const annotations = keptAnnotations(m.annotations);
  const metadata = { name, namespace, uid, generation, resourceVersion, labels, annotations };
  const parsed = schema.safeParse({ ...rest, metadata });
  const base = { ref: refOf(m), annotations: annotations ?? {}, status };
  if (parsed.success) return { ...base, valid: parsed.data, issues: [] };
  const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  return { ...base, issues };
}

/**
 * Whether `raw` has the spec and metadata `previous` was made from. The apiserver moves `generation` on
 * every spec change of a custom resource (its status has its own subresource), never on status writes;
 * labels and annotations do not move it, so they are compared.
 */
function sameSpec<T extends { metadata: object }>(
  previous: Cached<T> | undefined,
  m: Meta,
): previous is Cached<T> {
  if (!previous || !m.generation || !m.uid) return false;
  return (
    previous.ref.uid === m.uid &&
    previous.ref.generation === m.generation &&
    sameEntries(previous.annotations, keptAnnotations(m.annotations) ?? {}) &&
    sameEntries(
      ((previous.valid?.metadata ?? {}) as { labels?: Record<string, string> }).labels ?? {},
      m.labels ?? {},
    )
  );
}

function sameEntries(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export const projectProvider = (raw: RawObject, previous?: CachedProvider): CachedProvider =>
  cached(modelProvider, raw, previous);
export const projectPolicy = (raw: RawObject, previous?: CachedPolicy): CachedPolicy =>
  cached(routingPolicy, raw, previous);

/** Keeps a Secret only when `wanted` says a ModelProvider references it; never anything but its data. */
export function secretProjector(wanted: (namespace: string, name: string) => boolean) {
  return (raw: RawObject): Secret | undefined => {
    const m = metaOf(raw);
    if (!m.name || !wanted(m.namespace ?? '', m.name)) return undefined;
    const parsed = secret.safeParse({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      type: raw['type'],
      data: raw['data'],
    });
    return parsed.success ? parsed.data : undefined;
  };
}

/** Namespaces are kept only while they carry the injection label. */
export function projectNamespace(raw: RawObject): string | undefined {
  const m = metaOf(raw);
  return m.labels?.[INJECT_LABEL] === 'true' ? (m.name ?? '') : undefined;
}

/** A pod is injected when it says so, or its namespace does and the pod does not opt out. */
export function isInjected(podLabels: Readonly<Record<string, string>>, namespaceInjected: boolean): boolean {
  const own = podLabels[INJECT_LABEL];
  return own === 'true' || (namespaceInjected && own !== 'false');
}

/** A pod injection selects, and whether it actually runs the sidecar. */
export interface CachedPod {
  identity: PodIdentity;
  /**
   * The pod carries the sidecar container the webhook injects. One that does not (created before its
   * namespace opted in, or admitted while the webhook was down: the webhook fails open) never syncs, so
   * it must count neither as a selected sidecar in status nor as a holder of fleet budget leases.
   */
  sidecar: boolean;
}

/** Keeps pods injection selects that may still run (not Succeeded/Failed), as the identity the push server checks. */
export function podProjector(namespaceInjected: (namespace: string) => boolean) {
  return (raw: RawObject): CachedPod | undefined => {
    const m = metaOf(raw);
    const labels = m.labels ?? {};
    const phase = (raw['status'] as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    if (!m.name || !isInjected(labels, namespaceInjected(m.namespace ?? ''))) return undefined;
    // The webhook never injects these (operator/webhook): counting them would leave them "stale" forever.
    if (m.annotations?.[INJECT_LABEL] === 'false') return undefined;
    if ((raw['spec'] as { hostNetwork?: boolean } | undefined)?.hostNetwork === true) return undefined;
    return {
      identity: { namespace: m.namespace ?? '', name: m.name, uid: m.uid ?? '', labels: { ...labels } },
      sidecar: isInjectedAlready(raw),
    };
  };
}

/** "namespace/name" of every Secret a valid ModelProvider's auth.secretRef names. */
export function referencedSecrets(providers: readonly CachedProvider[]): Set<string> {
  const out = new Set<string>();
  for (const p of providers) {
    const ref = p.valid?.spec.auth?.secretRef;
    if (ref) out.add(`${p.ref.namespace}/${ref.name}`);
  }
  return out;
}
