// Local mode's stand-in for the apiserver: a directory of the same YAML manifests users kubectl apply.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Diagnostic, Snapshot } from '../api/index.ts';
import { hasErrors, mergeManifests, parseManifests, withSources } from '../api/index.ts';
import { compile, snapshotFor } from '../operator/compile/index.ts';

const MANIFEST = /\.(ya?ml)$/i;

export async function manifestFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && MANIFEST.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export interface LoadedConfig {
  diagnostics: Diagnostic[];
  /** Undefined when any error was found: the caller keeps whatever it served before. */
  snapshot: Snapshot | undefined;
  /**
   * What the operator would serve from these manifests: the objects that compiled, the ones with
   * errors left out. Undefined only when no namespace can be chosen (or no file was found).
   */
  accepted: Snapshot | undefined;
  namespace: string | undefined;
  files: number;
}

export interface LoadOptions {
  namespace?: string;
  /** The workload's pod labels, or 'all' for every policy of the namespace (local mode's one process). */
  labels: Record<string, string> | 'all';
}

export async function loadConfigDir(dir: string, opts: LoadOptions): Promise<LoadedConfig> {
  const files = await manifestFiles(dir);
  const parts = await Promise.all(
    files.map(async (f) =>
      parseManifests(await readFile(f, 'utf8'), relative(dir, f) || f, opts.namespace ?? 'default'),
    ),
  );
  const manifests = mergeManifests(parts);
  const result = compile(manifests.providers, manifests.policies, manifests.secrets);
  const diagnostics = [...manifests.diagnostics, ...withSources(result.diagnostics, manifests.sources)];
  const namespaces = [...result.namespaces.keys()];
  const namespace = opts.namespace ?? (namespaces.length === 1 ? namespaces[0] : undefined);
  if (namespace === undefined && namespaces.length > 1) {
    diagnostics.push({
      severity: 'error',
      kind: 'Config',
      namespace: '-',
      name: dir,
      path: '',
      message: `manifests span namespaces ${namespaces.join(', ')}: choose one with --namespace`,
    });
  }
  if (files.length === 0) {
    diagnostics.push({
      severity: 'error',
      kind: 'Config',
      namespace: '-',
      name: dir,
      path: '',
      message: 'no .yaml or .yml files found',
    });
  }
  const usable = namespace !== undefined && files.length > 0;
  const accepted = usable ? snapshotFor(result.namespaces.get(namespace), namespace, opts.labels) : undefined;
  return {
    diagnostics,
    snapshot: hasErrors(diagnostics) ? undefined : accepted,
    accepted,
    namespace,
    files: files.length,
  };
}
