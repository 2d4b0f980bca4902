// `turnout dev`: local mode. The same compile and sidecar code as in a cluster, fed from a directory of
// manifests instead of the apiserver. Edits reload live; an invalid edit keeps the last good snapshot.
import { watch } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../api/index.ts';
import { DEFAULT_LISTEN, startSidecar, type RunningSidecar } from '../sidecar/index.ts';
import { unenforcedFeatures } from '../sidecar/snapshot/support.ts';
import { parseByteSize, parseFlags, parseLabels, parseListen } from './args.ts';
import { loadConfigDir, type LoadOptions } from './config-dir.ts';
import { decisionLine } from './decision-line.ts';

export const BUNDLED_EXAMPLES = fileURLToPath(new URL('../examples/local', import.meta.url));

export const DEV_USAGE = `turnout dev [--config DIR] [--listen HOST:PORT] [--namespace NS] [--workload k=v,...] [--max-body-bytes N] [--json]
  Serves the sidecar API locally from a directory of ModelProvider, RoutingPolicy and Secret manifests,
  reloading on change. Default DIR: the bundled examples (simulated mock providers, works offline).`;

const OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  namespace: { type: 'string' },
  workload: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

export async function devCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  const dir = values.config ?? BUNDLED_EXAMPLES;
  const listen = values.listen ? parseListen(values.listen) : DEFAULT_LISTEN;
  const load: LoadOptions = { labels: values.workload ? parseLabels(values.workload) : 'all', ...(values.namespace && { namespace: values.namespace }) };
  const sidecar = await startSidecar({
    ...listen,
    ...(values['max-body-bytes'] && { maxBodyBytes: parseByteSize(values['max-body-bytes']) }),
    onDecision: (d) => say(values.json ? JSON.stringify(d) : decisionLine(d)),
    onInternalError: (e) => warn(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  });
  say(`turnout dev: serving ${sidecar.url} from ${dir}`);
  say(`  OpenAI SDKs: OPENAI_BASE_URL=${sidecar.url}/v1  (any API key; provider keys come from the manifests)`);
  await reload(sidecar, dir, load);
  const stopWatching = watchDir(dir, () => void reload(sidecar, dir, load));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stopWatching();
  say('turnout dev: shutting down (waiting for calls in flight)');
  await sidecar.close();
  return 0;
}

async function reload(sidecar: RunningSidecar, dir: string, load: LoadOptions): Promise<void> {
  let loaded;
  try {
    loaded = await loadConfigDir(dir, load);
  } catch (e) {
    warn(`cannot read ${dir}: ${e instanceof Error ? e.message : String(e)}${sidecar.store.current ? '; keeping the last good snapshot' : ''}`);
    return;
  }
  for (const d of loaded.diagnostics) warn(formatDiagnostic(d));
  const { snapshot } = loaded;
  if (!snapshot) {
    const kept = sidecar.store.current;
    warn(kept ? `config has errors: keeping the last good snapshot ${short(kept.version)}` : 'config has errors: nothing loaded yet, fix the errors above');
    return;
  }
  if (sidecar.store.current?.version === snapshot.version) return;
  sidecar.store.load(snapshot);
  const simulated = snapshot.providers.filter((p) => p.simulated).map((p) => p.name);
  say(
    `loaded snapshot ${short(snapshot.version)}: namespace ${snapshot.namespace}, ${snapshot.policies.length} policies, ` +
      `${snapshot.providers.length} providers${simulated.length > 0 ? ` (SIMULATED: ${simulated.join(', ')})` : ''}`,
  );
  for (const line of unenforcedFeatures(snapshot)) warn(`warning: ${line}`);
}

const short = (version: string) => version.slice(0, 19);

/** Debounced recursive watch: editors write files in several steps, one reload per burst is enough. */
function watchDir(dir: string, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 150);
  });
  watcher.on('error', (e) => warn(`watching ${dir} failed: ${e.message}`));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
