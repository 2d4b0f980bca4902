// The boundary where YAML becomes typed objects: validated once here with zod, never again downstream.
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { API_GROUP_VERSION } from './common.ts';
import { formatPath, type Diagnostic } from './diagnostics.ts';
import { modelProvider, type ModelProvider } from './model-provider.ts';
import { routingPolicy, type RoutingPolicy } from './routing-policy.ts';
import { secret, type Secret } from './secret.ts';

export * from './diagnostics.ts';

export interface Manifests {
  providers: ModelProvider[];
  policies: RoutingPolicy[];
  secrets: Secret[];
}

export interface ParsedManifests extends Manifests {
  diagnostics: Diagnostic[];
  /** "Kind/namespace/name" → where it was read from, so later diagnostics can name the file. */
  sources: Map<string, string>;
}

export const sourceKey = (kind: string, namespace: string, name: string): string =>
  `${kind}/${namespace}/${name}`;

/** Adds the file each diagnostic's object came from, where known. */
export function withSources(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): Diagnostic[] {
  return diagnostics.map((d) => {
    const source = d.source ?? sources.get(sourceKey(d.kind, d.namespace, d.name));
    return source === undefined ? d : { ...d, source };
  });
}

const SCHEMAS = { ModelProvider: modelProvider, RoutingPolicy: routingPolicy, Secret: secret } as const;

export function emptyManifests(): ParsedManifests {
  return { providers: [], policies: [], secrets: [], diagnostics: [], sources: new Map() };
}

/**
 * Parses multi-document YAML. Objects Turnout does not know (other kinds) are ignored; invalid ones
 * are dropped with a diagnostic naming the field. `defaultNamespace` stands in for a missing
 * metadata.namespace, as kubectl does.
 */
export function parseManifests(text: string, source: string, defaultNamespace = 'default'): ParsedManifests {
  const out = emptyManifests();
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      out.diagnostics.push(
        problem('YAML', '?', defaultNamespace, source, '', `not valid YAML: ${e?.message ?? 'parse error'}`),
      );
      continue;
    }
    const value: unknown = doc.toJS();
    if (value == null) continue;
    addObject(out, value, source, defaultNamespace);
  }
  return out;
}

function addObject(out: ParsedManifests, value: unknown, source: string, defaultNamespace: string): void {
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.diagnostics.push(
      problem('YAML', '?', defaultNamespace, source, '', 'each document must be a Kubernetes object'),
    );
    return;
  }
  const obj = value as {
    kind?: unknown;
    apiVersion?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  if (kind === 'List' && Array.isArray((value as { items?: unknown }).items)) {
    for (const item of (value as { items: unknown[] }).items) addObject(out, item, source, defaultNamespace);
    return;
  }
  if (!(kind in SCHEMAS)) return;
  if (kind !== 'Secret' && obj.apiVersion !== API_GROUP_VERSION) {
    out.diagnostics.push(
      problem(
        kind,
        nameOf(obj),
        defaultNamespace,
        source,
        'apiVersion',
        `apiVersion must be ${API_GROUP_VERSION}`,
      ),
    );
    return;
  }
  const schema = SCHEMAS[kind as keyof typeof SCHEMAS] as z.ZodType;
  const parsed = schema.safeParse(value);
  const namespace = typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : defaultNamespace;
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      out.diagnostics.push(
        problem(kind, nameOf(obj), namespace, source, formatPath(issue.path), issue.message),
      );
    }
    return;
  }
  const typed = parsed.data as ModelProvider | RoutingPolicy | Secret;
  typed.metadata.namespace = namespace;
  out.sources.set(sourceKey(kind, namespace, typed.metadata.name), source);
  if (typed.kind === 'ModelProvider') out.providers.push(typed);
  else if (typed.kind === 'RoutingPolicy') out.policies.push(typed);
  else out.secrets.push(typed);
}

function nameOf(obj: { metadata?: { name?: unknown } }): string {
  return typeof obj.metadata?.name === 'string' ? obj.metadata.name : '?';
}

function problem(
  kind: string,
  name: string,
  namespace: string,
  source: string,
  path: string,
  message: string,
): Diagnostic {
  return { severity: 'error', kind, namespace, name, path, message, source };
}

export function mergeManifests(parts: readonly ParsedManifests[]): ParsedManifests {
  const out = emptyManifests();
  for (const p of parts) {
    out.providers.push(...p.providers);
    out.policies.push(...p.policies);
    out.secrets.push(...p.secrets);
    out.diagnostics.push(...p.diagnostics);
    for (const [k, v] of p.sources) out.sources.set(k, v);
  }
  return out;
}
