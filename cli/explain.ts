// `turnout explain`: the routing decision a request would get, without sending it anywhere. Runs the
// same compile → match → candidate ordering code as the sidecar, on manifests from a directory.
import { readFile } from 'node:fs/promises';
import { formatDiagnostic } from '../api/index.ts';
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

export const EXPLAIN_USAGE = `turnout explain --config DIR [--namespace NS] [--workload k=v,...] [--header k=v ...] REQUEST.json
  Prints which route and targets a Chat Completions request would get, and why. Priority order is
  shown as listed; a weighted route's order is one draw.`;

const OPTIONS = {
  config: { type: 'string' },
  namespace: { type: 'string' },
  workload: { type: 'string' },
  header: { type: 'string', multiple: true },
} as const;

export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, OPTIONS);
  if (!values.config)
    throw new UsageError(
      '--config DIR is required (cluster mode, --namespace without --config, comes with the operator)',
    );
  const [requestFile] = positionals;
  if (!requestFile) throw new UsageError('name the request body file, e.g. request.json');
  const loaded = await loadConfigDir(values.config, {
    labels: values.workload ? parseLabels(values.workload) : 'all',
    ...(values.namespace && { namespace: values.namespace }),
  });
  for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!loaded.snapshot) {
    process.stderr.write('the manifests have errors: nothing to explain\n');
    return 1;
  }
  const runtime = buildRuntime(loaded.snapshot, (spec) =>
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
