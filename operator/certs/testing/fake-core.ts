// An in-memory stand-in for the few CoreV1Api calls operator/certs makes, with the apiserver's rules
// that matter to it: 404 on a missing object, 409 on create of an existing one or replace with a stale
// resourceVersion, base64 `data` from `stringData`, field selectors on metadata.name.
import type { CoreV1Api, V1ConfigMap, V1Namespace, V1Secret } from '@kubernetes/client-node';

type Kind = 'secret' | 'configmap';
type Obj = V1Secret | V1ConfigMap;

const httpError = (code: number, what: string) => Object.assign(new Error(`${code}: ${what}`), { code });

export class FakeCore {
  readonly objects = new Map<string, Obj>();
  readonly namespaces = new Map<string, string>();
  /** Names of Secrets whose deletion is refused with 403, as RBAC would. */
  readonly forbiddenDeletes = new Set<string>();
  #version = 1;
  #uids = 1;

  /** Creates (or, with a new UID, recreates) a namespace. */
  addNamespace(name: string): string {
    const uid = `uid-${name}-${this.#uids++}`;
    this.namespaces.set(name, uid);
    return uid;
  }

  get api(): CoreV1Api {
    return this as unknown as CoreV1Api;
  }

  secret(namespace: string, name: string): Record<string, string> | undefined {
    const s = this.objects.get(`secret/${namespace}/${name}`);
    if (!s) return undefined;
    return Object.fromEntries(
      Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  }

  stored(kind: Kind, namespace: string, name: string): Obj | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`);
  }

  #read(kind: Kind, namespace: string, name: string): Obj {
    const o = this.objects.get(`${kind}/${namespace}/${name}`);
    if (!o) throw httpError(404, `${kind} ${namespace}/${name} not found`);
    return structuredClone(o);
  }

  #write(kind: Kind, namespace: string, body: Obj, create: boolean): Obj {
    const name = body.metadata?.name ?? '';
    const key = `${kind}/${namespace}/${name}`;
    const have = this.objects.get(key);
    if (create && have) throw httpError(409, `${key} already exists`);
    if (!create && !have) throw httpError(404, `${key} not found`);
    if (!create && body.metadata?.resourceVersion !== have?.metadata?.resourceVersion)
      throw httpError(409, `${key}: stale resourceVersion`);
    const stored = structuredClone(body) as V1Secret;
    stored.metadata = { ...stored.metadata, namespace, resourceVersion: String(this.#version++) };
    if (kind === 'secret' && stored.stringData) {
      stored.data = Object.fromEntries(
        Object.entries(stored.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      );
      delete stored.stringData;
    }
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  #list(kind: Kind, fieldSelector: string | undefined) {
    const name = /^metadata\.name=(.+)$/.exec(fieldSelector ?? '')?.[1];
    const items = [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${kind}/`) && (name === undefined || o.metadata?.name === name))
      .map(([, o]) => structuredClone(o));
    return Promise.resolve({ items });
  }

  readNamespacedSecret = (a: { namespace: string; name: string }) =>
    Promise.resolve(this.#read('secret', a.namespace, a.name));
  createNamespacedSecret = (a: { namespace: string; body: V1Secret }) =>
    Promise.resolve(this.#write('secret', a.namespace, a.body, true));
  replaceNamespacedSecret = (a: { namespace: string; name: string; body: V1Secret }) =>
    Promise.resolve(this.#write('secret', a.namespace, a.body, false));
  deleteNamespacedSecret = (a: { namespace: string; name: string }) => {
    if (this.forbiddenDeletes.has(a.name)) return Promise.reject(httpError(403, 'forbidden'));
    this.#read('secret', a.namespace, a.name);
    this.objects.delete(`secret/${a.namespace}/${a.name}`);
    return Promise.resolve({});
  };
  readNamespacedConfigMap = (a: { namespace: string; name: string }) =>
    Promise.resolve(this.#read('configmap', a.namespace, a.name));
  createNamespacedConfigMap = (a: { namespace: string; body: V1ConfigMap }) =>
    Promise.resolve(this.#write('configmap', a.namespace, a.body, true));
  replaceNamespacedConfigMap = (a: { namespace: string; name: string; body: V1ConfigMap }) =>
    Promise.resolve(this.#write('configmap', a.namespace, a.body, false));
  listSecretForAllNamespaces = (a: { fieldSelector?: string }) => this.#list('secret', a.fieldSelector);
  listConfigMapForAllNamespaces = (a: { fieldSelector?: string }) => this.#list('configmap', a.fieldSelector);
  listNamespace = (a: { fieldSelector?: string }) => {
    const name = /^metadata\.name=(.+)$/.exec(a.fieldSelector ?? '')?.[1];
    const items: V1Namespace[] = [...this.namespaces]
      .filter(([n]) => name === undefined || n === name)
      .map(([n, uid]) => ({ metadata: { name: n, uid } }));
    return Promise.resolve({ items });
  };
}
