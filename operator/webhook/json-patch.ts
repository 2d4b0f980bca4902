// Add-only JSON Patch (RFC 6902). The injector never replaces or removes what the pod author wrote:
// each change is an `add` of something absent, so a patch can only ever extend a pod.

export interface AddOp {
  op: 'add';
  path: string;
  value: unknown;
}

const escape = (part: string | number) => String(part).replace(/~/g, '~0').replace(/\//g, '~1');

export const pointer = (...parts: (string | number)[]): string => `/${parts.map(escape).join('/')}`;

export class AddPatch {
  readonly ops: AddOp[] = [];
  /** Containers (arrays, maps) this patch has itself created, so later additions go inside them. */
  readonly #created = new Set<string>();

  add(path: string, value: unknown): void {
    this.ops.push({ op: 'add', path, value });
  }

  /** Appends `value` to the array at `path`, creating it when the pod has none. */
  append(path: string, existing: readonly unknown[] | undefined, value: unknown): void {
    if (existing !== undefined || this.#created.has(path)) this.add(`${path}/-`, value);
    else {
      this.add(path, [value]);
      this.#created.add(path);
    }
  }

  /** Sets `key` in the map at `path`, creating the map when the pod has none. */
  setKey(path: string, existing: object | undefined, key: string, value: unknown): void {
    if (existing !== undefined || this.#created.has(path)) this.add(`${path}/${escape(key)}`, value);
    else {
      this.add(path, { [key]: value });
      this.#created.add(path);
    }
  }
}
