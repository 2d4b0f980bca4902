// Where each namespace's mesh CA is kept. Transparent mode gives a namespace a leaf for hostnames its
// own ModelProviders choose, with the private key in a Secret the namespace can read, so a CA shared
// by several namespaces would let one tenant impersonate any host to another tenant's pods. Instead
// every namespace has a CA that signs only its own leaf and that only its own pods trust, and the CA's
// key never leaves the operator's namespace: the Secret `<prefix>-<namespace>` there, owned by the
// Namespace object, so the garbage collector deletes it with the namespace. A namespace deleted and
// created again under the same name (a new UID) gets a new CA, never the old one: whoever had the old
// namespace may still hold a leaf that CA signed.
import type { CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';
import type { Stored } from './kube-objects.ts';

/** On each CA Secret: the namespace it serves, for `kubectl get secret -l`. */
export const MESH_NAMESPACE_LABEL = 'turnout.dev/mesh-namespace';

export function authoritySecretName(prefix: string, namespace: string): string {
  return `${prefix}-${namespace}`;
}

/** The namespace as an owner reference (no blockOwnerDeletion: that would need delete on namespaces). */
export async function namespaceOwner(core: CoreV1Api, namespace: string): Promise<V1OwnerReference> {
  // Listed by name: the chart grants list on namespaces, not get.
  const list = await core.listNamespace({ fieldSelector: `metadata.name=${namespace}` });
  const found = list.items.find((n) => n.metadata?.name === namespace);
  const uid = found?.metadata?.uid;
  if (!uid) throw new Error(`namespace ${namespace} not found`);
  // A CA written now would only be garbage-collected again once the namespace is gone.
  if (found.status?.phase === 'Terminating') throw new Error(`namespace ${namespace} is being deleted`);
  return { apiVersion: 'v1', kind: 'Namespace', name: namespace, uid };
}

/** True when the stored CA was made for this very namespace, not an earlier one of the same name. */
export function belongsTo(stored: Stored, owner: V1OwnerReference): boolean {
  return stored.ownerReferences.some((r) => r.kind === 'Namespace' && r.uid === owner.uid);
}
