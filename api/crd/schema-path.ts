import type { CrdSchema } from './structural.ts';

/**
 * The schema node at a manifest-style path: "spec.routes[].match" walks properties, "[]" steps into
 * list items, "" is the root. Throws on a missing field so a renamed zod field breaks generation, not the cluster.
 */
export function schemaAt(root: CrdSchema, path: string): CrdSchema {
  let node = root;
  if (path === '') return node;
  for (const part of path.split('.')) {
    const isList = part.endsWith('[]');
    const name = isList ? part.slice(0, -2) : part;
    const child = node.properties?.[name];
    if (!child) throw new Error(`CRD schema has no field "${name}" on the way to ${path}`);
    node = child;
    if (isList) {
      if (!node.items) throw new Error(`CRD schema field ${name} in ${path} is not a list`);
      node = node.items;
    }
  }
  return node;
}
