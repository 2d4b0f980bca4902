// Reading and writing the Secrets and ConfigMaps that carry certificates. Writes are optimistic: an
// update names the resourceVersion it was computed from, so two replicas rotating at once cannot
// overwrite each other — the loser sees a conflict and re-plans from what the winner wrote.
import type { CoreV1Api, V1ConfigMap, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { httpStatusOf } from '../kube/log.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'turnout-operator' } as const;

export interface Stored {
  data: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: V1OwnerReference[];
  resourceVersion: string;
}

export type WriteResult = 'written' | 'conflict';

const notFound = (e: unknown) => httpStatusOf(e) === 404;
const conflict = (e: unknown) => httpStatusOf(e) === 409;

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

export async function readSecret(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<Stored | undefined> {
  try {
    const s = await core.readNamespacedSecret({ namespace, name });
    return {
      data: decode(s.data),
      annotations: s.metadata?.annotations ?? {},
      ownerReferences: s.metadata?.ownerReferences ?? [],
      resourceVersion: s.metadata?.resourceVersion ?? '',
    };
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

export async function readConfigMap(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<Stored | undefined> {
  try {
    const c = await core.readNamespacedConfigMap({ namespace, name });
    return {
      data: c.data ?? {},
      annotations: c.metadata?.annotations ?? {},
      ownerReferences: c.metadata?.ownerReferences ?? [],
      resourceVersion: c.metadata?.resourceVersion ?? '',
    };
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

export interface WriteRequest {
  namespace: string;
  name: string;
  data: Record<string, string>;
  annotations?: Record<string, string>;
  /** Added to the managed-by label. */
  labels?: Record<string, string>;
  ownerReferences?: V1OwnerReference[];
  /** The version read before planning; undefined = it did not exist, so create. */
  resourceVersion: string | undefined;
}

export async function writeSecret(core: CoreV1Api, req: WriteRequest, type = 'Opaque'): Promise<WriteResult> {
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type,
    metadata: meta(req),
    stringData: req.data,
  };
  return write(
    () => core.createNamespacedSecret({ namespace: req.namespace, body }),
    () => core.replaceNamespacedSecret({ namespace: req.namespace, name: req.name, body }),
    req,
  );
}

export async function writeConfigMap(core: CoreV1Api, req: WriteRequest): Promise<WriteResult> {
  const body: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(req), data: req.data };
  return write(
    () => core.createNamespacedConfigMap({ namespace: req.namespace, body }),
    () => core.replaceNamespacedConfigMap({ namespace: req.namespace, name: req.name, body }),
    req,
  );
}

function meta(req: WriteRequest) {
  return {
    name: req.name,
    namespace: req.namespace,
    labels: { ...req.labels, ...MANAGED_BY },
    ...(req.annotations && { annotations: req.annotations }),
    ...(req.ownerReferences && { ownerReferences: req.ownerReferences }),
    ...(req.resourceVersion !== undefined && { resourceVersion: req.resourceVersion }),
  };
}

async function write(
  create: () => Promise<unknown>,
  replace: () => Promise<unknown>,
  req: WriteRequest,
): Promise<WriteResult> {
  try {
    await (req.resourceVersion === undefined ? create() : replace());
    return 'written';
  } catch (e) {
    // 409 on create is AlreadyExists (another replica was first); on replace, a stale resourceVersion.
    if (conflict(e) || (req.resourceVersion !== undefined && notFound(e))) return 'conflict';
    throw e;
  }
}

/** True when every key of `want` has the same value in `have` (and no key is missing). */
export function sameData(have: Record<string, string> | undefined, want: Record<string, string>): boolean {
  if (!have) return false;
  const keys = Object.keys(want);
  return keys.length === Object.keys(have).length && keys.every((k) => have[k] === want[k]);
}

/** Deletes a Secret; false when it was not there. */
export async function deleteSecret(core: CoreV1Api, namespace: string, name: string): Promise<boolean> {
  try {
    await core.deleteNamespacedSecret({ namespace, name });
    return true;
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
}
