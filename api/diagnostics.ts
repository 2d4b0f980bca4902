/** One problem found in a manifest, naming the object and the field path the user must change. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  kind: string;
  namespace: string;
  name: string;
  /** Field path in the manifest, e.g. spec.routes[0].targets[1].model. */
  path: string;
  message: string;
  /** Where the object came from (a file name in local mode). */
  source?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.source ? ` (${d.source})` : '';
  return `${d.severity}: ${d.kind} ${d.namespace}/${d.name}${where}: ${d.path}: ${d.message}`;
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');
