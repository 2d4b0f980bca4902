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
  namespace: string | undefined;
  files: number;
}

export interface LoadOptions {
  namespace?: string;
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
  const ok = !hasErrors(diagnostics) && namespace !== undefined;
  return {
    diagnostics,
    snapshot: ok ? snapshotFor(result.namespaces.get(namespace), namespace, opts.labels) : undefined,
    namespace,
    files: files.length,
  };
}
