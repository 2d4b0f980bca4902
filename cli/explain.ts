// `turnout explain`: the routing decision a request would get, without sending it anywhere. Runs the
// same compile → match → candidate ordering code as the sidecar, on manifests from a directory or on a
// namespace's objects read from the cluster. Like the operator, it explains from the objects that
// compile: one broken policy (say, for another workload) is reported and left out, not a reason to stop.
import { readFile } from 'node:fs/promises';
import { formatDiagnostic, type Diagnostic, type Snapshot } from '../api/index.ts';
import { parseJsonBody } from '../sidecar/http/chat-handler.ts';
import { asChatBody, chatFeatures } from '../sidecar/routing/features.ts';
import { matchRoute, routeAccepts } from '../sidecar/routing/match.ts';
import { buildRuntime, type RuntimeSnapshot } from '../sidecar/snapshot/runtime.ts';
import { providerKind } from '../sidecar/providers/registry.ts';
import { candidatesFor } from '../sidecar/upstream/candidates.ts';
import type { Call } from '../sidecar/upstream/call.ts';
import { createSidecarState } from '../sidecar/runtime-state.ts';
import { parseFlags, parseLabels, UsageError } from './args.ts';
import { loadConfigDir } from './config-dir.ts';

export const EXPLAIN_USAGE = `turnout explain (--config DIR [--namespace NS] | --namespace NS [--kubeconfig FILE])
                --workload k=v,... [--header k=v ...] REQUEST.json
  Prints which route and targets a Chat Completions request would get, and why. Priority order is
  shown as listed; a weighted route's order is one draw.
  --config DIR: manifests from a directory (--namespace picks one when they span several).
  --namespace NS alone: NS's ModelProviders and RoutingPolicies read from the cluster (KUBECONFIG, else
  in-cluster; --kubeconfig FILE), compiled as the operator compiles them; no Secret is read.
  --workload (required): the labels of the pod to explain for, as a policy's workloadSelector sees
  them; --workload "" is a pod without labels, which only policies without a workloadSelector select.
  Objects with errors are left out, as the operator leaves them out, and printed as warnings.`;

const OPTIONS = {
  config: { type: 'string' },
  namespace: { type: 'string' },
  kubeconfig: { type: 'string' },
  workload: { type: 'string' },
  header: { type: 'string', multiple: true },
} as const;

export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, OPTIONS);
  if (values.config === undefined && values.namespace === undefined)
    throw new UsageError('--config DIR (manifests) or --namespace NS (the cluster) is required');
  if (values.workload === undefined)
    throw new UsageError(
      '--workload is required: the labels of the pod whose policies apply, e.g. --workload app=web (--workload "" for a pod without labels)',
    );
  if (values.config !== undefined && values.kubeconfig !== undefined)
    throw new UsageError('--kubeconfig reads from the cluster: use it with --namespace, without --config');
  const [requestFile] = positionals;
  if (!requestFile) throw new UsageError('name the request body file, e.g. request.json');
  const labels = parseLabels(values.workload);
  const snapshot =
    values.config !== undefined
      ? await fromConfigDir(values.config, labels, values.namespace)
      : await fromCluster(values.namespace ?? '', labels, values.kubeconfig);
  if (!snapshot) return 1;
  const runtime = buildRuntime(snapshot, (spec) =>
    providerKind(spec.type)
      ? {}
      : { unsupported: `provider type ${spec.type} is not supported by this sidecar version` },
  );
  const headers = Object.fromEntries((values.header ?? []).map((h) => splitHeader(h)));
  const body = asChatBody(parseJsonBody(await readFile(requestFile)));
  const features = chatFeatures(body, headers);
  process.stdout.write(explain(runtime, features, body));
  return 0;
}

async function fromConfigDir(
  dir: string,
  labels: Record<string, string>,
  namespace: string | undefined,
): Promise<Snapshot | undefined> {
  const loaded = await loadConfigDir(dir, { labels, ...(namespace !== undefined && { namespace }) });
  if (!loaded.accepted) {
    for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write('nothing to explain\n');
    return undefined;
  }
  const leftOut = new Set<string>();
  for (const d of loaded.diagnostics) {
    if (d.severity === 'error') leftOut.add(`${d.kind} ${d.namespace}/${d.name}`);
    process.stderr.write(`${formatDiagnostic(asWarning(d))}\n`);
  }
  if (leftOut.size > 0)
    process.stderr.write(
      `warning: left out, as the operator would: ${[...leftOut].join(', ')}; explaining from the rest\n`,
    );
  return loaded.accepted;
}

/** An error that keeps one object out of the snapshot, reported as what it is to explain: a warning. */
const asWarning = (d: Diagnostic): Diagnostic =>
  d.severity === 'error' ? { ...d, severity: 'warning', message: `${d.message} (left out)` } : d;

async function fromCluster(
  namespace: string,
  labels: Record<string, string>,
  kubeconfig: string | undefined,
): Promise<Snapshot> {
  // Loaded only here: explaining from a directory never needs the Kubernetes client.
  const { loadClusterNamespace } = await import('./cluster-config.ts');
  const loaded = await loadClusterNamespace(namespace, labels, kubeconfig);
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  if (loaded.providers + loaded.policies === 0)
    process.stderr.write(`warning: namespace ${namespace} has no ModelProvider or RoutingPolicy\n`);
  return loaded.snapshot;
}

function splitHeader(h: string): [string, string] {
  const i = h.indexOf('=');
  if (i <= 0) throw new UsageError(`--header must be name=value (got "${h}")`);
  return [h.slice(0, i).toLowerCase(), h.slice(i + 1)];
}

export function explain(
  runtime: RuntimeSnapshot,
  features: ReturnType<typeof chatFeatures>,
  body: ReturnType<typeof asChatBody>,
): string {
  const lines = [
    `request: model=${features.model} stream=${features.stream} ~${features.promptTokens} prompt tokens, uses ${features.requires.join(', ')}` +
      (Object.keys(features.tags).length > 0 ? `, tags ${JSON.stringify(features.tags)}` : ''),
  ];
  if (runtime.routes.length === 0) lines.push('  (no accepted RoutingPolicy selects this workload)');
  for (const r of runtime.routes) {
    lines.push(
      `  ${routeAccepts(r, features) ? '✓' : '·'} ${r.policy.name}/${r.route.name}${routeAccepts(r, features) ? '' : `: ${whyNot(r, features)}`}`,
    );
  }
  const route = matchRoute(runtime, features);
  if (!route) return `${lines.join('\n')}\n→ no route matches and no defaultRoute: 404 model_not_found\n`;
  const isDefault = !runtime.routes.some((r) => r === route && routeAccepts(r, features));
  lines.push(
    `→ route ${route.policy.name}/${route.route.name}${isDefault ? ' (defaultRoute)' : ''}, strategy ${route.route.strategy}`,
  );
  const call = {
    runtime,
    route,
    body,
    features,
    attempts: [],
    skipped: [],
    state: createSidecarState(),
    operation: 'chat',
  } as unknown as Call;
  const { candidates, skipped } = candidatesFor(call);
  candidates.forEach((c, i) => {
    const fallback = route.route.fallbacks.includes(c.target) ? ' (fallback)' : '';
    lines.push(
      `  ${i + 1}. ${c.target.provider}/${c.target.model}${fallback}${c.provider.spec.simulated ? ' [simulated]' : ''}`,
    );
  });
  for (const s of skipped) lines.push(`  ✗ ${s.provider}/${s.model}: ${s.reason}`);
  return `${lines.join('\n')}\n`;
}

function whyNot(r: RuntimeSnapshot['routes'][number], f: ReturnType<typeof chatFeatures>): string {
  const m = r.route.match;
  if (!r.matchModel(f.model)) return `model "${f.model}" not in ${JSON.stringify(m.models)}`;
  for (const [k, v] of r.headerEntries) if (f.headers[k] !== v) return `needs header ${k}: ${v}`;
  for (const [k, v] of r.tagEntries) if (f.tags[k] !== v) return `needs tag ${k}=${v}`;
  if (m.promptTokensMax !== undefined && f.promptTokens > m.promptTokensMax)
    return `prompt over ${m.promptTokensMax} tokens`;
  if (m.promptTokensMin !== undefined && f.promptTokens < m.promptTokensMin)
    return `prompt under ${m.promptTokensMin} tokens`;
  const missing = m.requires.filter((c) => !f.requires.includes(c));
  return `request does not use ${missing.join(', ')}`;
}
