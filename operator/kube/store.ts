// The reflector's cache: namespace → name → projected value, with the resourceVersion it was made from
// so a relist can tell which objects actually changed while the watch was down.

/** The part of any apiserver object the cache needs to index it. */
export interface RawObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
  };
  [key: string]: unknown;
}

interface Entry<T> {
  rv: string;
  value: T;
}

export type ObjectKey = readonly [namespace: string, name: string];

export class Store<T> {
  #byNamespace = new Map<string, Map<string, Entry<T>>>();

  get(namespace: string, name: string): T | undefined {
    return this.#byNamespace.get(namespace)?.get(name)?.value;
  }

  list(namespace?: string): T[] {
    const maps =
      namespace === undefined ? [...this.#byNamespace.values()] : [this.#byNamespace.get(namespace)];
    return maps.flatMap((m) => (m ? [...m.values()].map((e) => e.value) : []));
  }

  namespaces(): string[] {
    return [...this.#byNamespace.keys()];
  }

  get size(): number {
    let n = 0;
    for (const m of this.#byNamespace.values()) n += m.size;
    return n;
  }

  /**
   * Stores what `project` keeps of `raw`; returns its key when the store changed. `project` also gets
   * what `previousFrom` (this store, or the one a relist replaces) holds for the object, to reuse.
   */
  putRaw(
    raw: RawObject,
    project: (raw: RawObject, previous: T | undefined) => T | undefined,
    previousFrom: Store<T> = this,
  ): ObjectKey | undefined {
    const name = raw.metadata?.name;
    if (!name) return undefined;
    const namespace = raw.metadata?.namespace ?? '';
    const value = project(raw, previousFrom.get(namespace, name));
    if (value === undefined) return this.#delete(namespace, name);
    const rv = raw.metadata?.resourceVersion ?? '';
    let m = this.#byNamespace.get(namespace);
    if (m?.get(name)?.rv === rv && rv !== '') return undefined;
    if (!m) this.#byNamespace.set(namespace, (m = new Map<string, Entry<T>>()));
    m.set(name, { rv, value });
    return [namespace, name];
  }

  deleteRaw(raw: RawObject): ObjectKey | undefined {
    const name = raw.metadata?.name;
    return name ? this.#delete(raw.metadata?.namespace ?? '', name) : undefined;
  }

  /** Drops entries `keep` refuses (what the projection keeps has narrowed); returns their keys. */
  prune(keep: (value: T, namespace: string, name: string) => boolean): ObjectKey[] {
    const removed: ObjectKey[] = [];
    for (const [ns, m] of this.#byNamespace) {
      for (const [name, e] of m) if (!keep(e.value, ns, name)) removed.push([ns, name]);
    }
    for (const [ns, name] of removed) this.#delete(ns, name);
    return removed;
  }

  /** Takes over `fresh`'s contents; returns the keys added, removed or changed by it. */
  replaceWith(fresh: Store<T>): ObjectKey[] {
    const touched: ObjectKey[] = [];
    for (const [ns, m] of this.#byNamespace) {
      for (const [name, e] of m) {
        if (fresh.#byNamespace.get(ns)?.get(name)?.rv !== e.rv || e.rv === '') touched.push([ns, name]);
      }
    }
    for (const [ns, m] of fresh.#byNamespace) {
      for (const name of m.keys()) if (!this.#byNamespace.get(ns)?.has(name)) touched.push([ns, name]);
    }
    this.#byNamespace = fresh.#byNamespace;
    return touched;
  }

  #delete(namespace: string, name: string): ObjectKey | undefined {
    const m = this.#byNamespace.get(namespace);
    if (!m?.delete(name)) return undefined;
    if (m.size === 0) this.#byNamespace.delete(namespace);
    return [namespace, name];
  }
}
