// Issue #4's memory target on the real thing: `turnout operator` as the image runs it (built JS, the
// NODE_OPTIONS the chart's Deployment sets) against a real kube-apiserver holding 1,000 RoutingPolicies ×
// 50 ModelProviders, with 50 sync clients connected (50 distinct workloads, so 50 snapshots are built
// and pushed), while namespace-wide policies are edited (each edit recompiles all 1,000 and pushes 50).
import { parseAllDocuments, stringify } from 'yaml';
import { buildForBench } from '../build.ts';
import { SCALE, scaleManifests } from '../fixtures/scale.ts';
import { percentile } from '../load.ts';
import { here } from '../processes.ts';
import { readRss, sampleRss, sleep } from '../rss.ts';
import { defineSuite, fmt, type BenchConfig } from '../suite.ts';
import type { ControlPlane } from '../../test/helpers/control-plane.ts';
import { applyable, type OperatorCluster, startOperatorCluster } from './operator-cluster.ts';

const PODS = 50;
const EDITS = 10;
const EDIT_GAP_MS = 3_000;
const TARGET_RSS = 250 * 2 ** 20;

export interface RssPhase {
  nodeOptions: string;
  /** VmHWM right after the operator synced and all sidecars ACKed: the startup peak (list + compile). */
  startupPeak: number;
  /** VmRSS idle after sync (median of 5 s of samples). */
  idle: number;
  /** Max VmRSS sampled (250 ms) over the edits, and VmHWM at the end. */
  editsMax: number;
  peak: number;
  /** ms from spawn to all sidecars synced (list + compile + 50 pushes, then 2 s without a push). */
  readyMs: number;
  /** Snapshots sent at startup whose ACK the operator had not recorded by then. */
  unacked: number;
}

export interface OperatorRssResult {
  policies: number;
  providers: number;
  pods: number;
  edits: number;
  /** What the chart's Deployment sets, read from `helm template charts/turnout`. */
  shippedNodeOptions: string;
  /** The glibc allocator settings (MALLOC_*) the chart's Deployment sets; the shipped run gets them too. */
  shippedMallocEnv: Record<string, string>;
  runs: RssPhase[];
  buildNote: string;
}

/** The operator container's NODE_OPTIONS and MALLOC_* in the rendered chart, as the cluster runs it. */
async function shippedEnv(
  cp: ControlPlane,
): Promise<{ nodeOptions: string; mallocEnv: Record<string, string> }> {
  const r = await cp.helm(['template', 'turnout', here('../charts/turnout'), '-n', 'turnout-system']);
  if (r.code !== 0) throw new Error(`helm template: ${r.stderr}`);
  for (const doc of parseAllDocuments(r.stdout)) {
    const d = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    } | null;
    if (d?.kind !== 'Deployment') continue;
    const env = d.spec?.template?.spec?.containers?.[0]?.env ?? [];
    const mallocEnv: Record<string, string> = {};
    for (const e of env)
      if (e.name.startsWith('MALLOC_') && e.value !== undefined) mallocEnv[e.name] = e.value;
    return { nodeOptions: env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '', mallocEnv };
  }
  throw new Error('no Deployment in the chart');
}

function editedPolicy(m: ReturnType<typeof scaleManifests>, edit: number): string {
  // policy-0, policy-50, …: the namespace-wide ones; every pod's snapshot changes.
  const p = m.policies[(edit % 20) * 50];
  if (!p) throw new Error('no namespace-wide policy');
  const budgets = [{ name: 'monthly', limitUSD: 1000 + edit, window: 'month' as const }];
  return stringify(applyable({ ...p, spec: { ...p.spec, budgets } }));
}

/**
 * Every pod has a stream open and the operator has sent nothing for 2 s (after a restart nothing may be
 * sent at all). ACKs lost to a busy operator are counted, not waited for: a sidecar does not resend them.
 */
function syncWatcher(c: OperatorCluster) {
  const opened = new Set<string>();
  const pending = new Map<string, string>();
  let quietSince = performance.now();
  const off = c.onLine((l) => {
    const pod = String(l['pod']);
    if (l.msg === 'stream.opened') opened.add(pod);
    if (l.msg === 'push.sent') pending.set(pod, String(l['version']));
    if (l.msg === 'push.ack' && pending.get(pod) === l['version']) pending.delete(pod);
    if (l.msg.startsWith('push.') || l.msg === 'stream.opened') quietSince = l.at;
  });
  return {
    off,
    synced: () => opened.size === PODS && performance.now() - quietSince > 2_000,
    unacked: () => pending.size,
    describe: () => `${opened.size} streams open, ${pending.size} snapshots un-ACKed`,
  };
}

async function measure(
  c: OperatorCluster,
  m: ReturnType<typeof scaleManifests>,
  nodeOptions: string,
  spawnedAt: number,
) {
  const watcher = syncWatcher(c);
  const deadline = Date.now() + 300_000;
  while (!watcher.synced()) {
    if (Date.now() > deadline)
      throw new Error(`sidecars not synced (${watcher.describe()}):\n${c.output().slice(-3000)}`);
    await sleep(100);
  }
  watcher.off();
  const unacked = watcher.unacked();
  const readyMs = performance.now() - spawnedAt;
  const pid = c.operator().pid;
  const startupPeak = readRss(pid).hwm;
  const idleSamples = sampleRss(pid);
  await sleep(5_000);
  const idle = percentile(idleSamples.stop(), 50);
  const samples = sampleRss(pid);
  for (let e = 1; e <= EDITS; e++) {
    await c.kubectl(['apply', '-f', '-'], editedPolicy(m, e));
    await sleep(EDIT_GAP_MS);
  }
  const editsMax = Math.max(...samples.stop());
  return { nodeOptions, startupPeak, idle, editsMax, peak: readRss(pid).hwm, readyMs, unacked };
}

async function operatorRss(_cfg: BenchConfig): Promise<OperatorRssResult> {
  const build = await buildForBench(here('./out/operator-dist'));
  if (!build.cli) throw new Error(`the operator did not build: ${build.note}`);
  const m = scaleManifests();
  const pods = Array.from({ length: PODS }, (_, i) => ({ name: `pod-${i}`, labels: { app: `app-${i}` } }));
  // First without flags (Node's defaults), then with the shipped ones, against the same cluster.
  let spawnedAt = performance.now();
  const c = await startOperatorCluster({
    namespace: SCALE.namespace,
    objects: [...m.secrets, ...m.providers, ...m.policies],
    pods,
    cli: build.cli,
  });
  try {
    const shippedSettings = await shippedEnv(c.cp);
    const shipped = shippedSettings.nodeOptions;
    const runs: RssPhase[] = [];
    for (const nodeOptions of ['', shipped]) {
      if (runs.length > 0) {
        spawnedAt = performance.now();
        await c.restartOperator(nodeOptions, shippedSettings.mallocEnv);
      }
      runs.push(await measure(c, m, nodeOptions, spawnedAt));
    }
    return {
      policies: m.policies.length,
      providers: m.providers.length,
      pods: PODS,
      edits: EDITS,
      shippedNodeOptions: shipped,
      shippedMallocEnv: shippedSettings.mallocEnv,
      runs,
      buildNote: build.note,
    };
  } finally {
    await c.stop();
  }
}

function markdown(r: OperatorRssResult): string {
  const head = r.runs.map((x) =>
    x.nodeOptions
      ? `${[`NODE_OPTIONS="${x.nodeOptions}"`, ...Object.entries(r.shippedMallocEnv).map(([k, v]) => `${k}=${v}`)].map((s) => `\`${s}\``).join(', ')} (shipped)`
      : 'no flags (Node defaults)',
  );
  const row = (name: string, f: (x: RssPhase) => string) => `| ${name} | ${r.runs.map(f).join(' | ')} |`;
  const shipped = r.runs.find((x) => x.nodeOptions === r.shippedNodeOptions && x.nodeOptions !== '');
  return [
    `The real \`turnout operator\` process, built JS (bench/out/operator-dist, \`tsconfig.build.json\`, as images/operator.Dockerfile builds it), \`NODE_ENV=production\`, against a real kube-apiserver + etcd holding ${r.policies} RoutingPolicies (1 in 50 namespace-wide, the rest selecting one of ${SCALE.apps} apps) × ${r.providers} ModelProviders and their Secret in one namespace, applied with kubectl. ${r.pods} pods of ${r.pods} different apps with pod-bound tokens and ${r.pods} real sync clients connected (50 distinct snapshots built, pushed and ACKed). Then ${r.edits} edits of a namespace-wide policy with \`kubectl apply\`, ${EDIT_GAP_MS / 1000} s apart (each recompiles all ${r.policies} policies and pushes ${r.pods} new snapshots). VmRSS/VmHWM from /proc/<pid>/status, sampled every 250 ms. The same cluster runs the operator twice: with Node's defaults, then with the NODE_OPTIONS the chart's Deployment sets, read from \`helm template charts/turnout\` (values \`operator.nodeOptions\`; images/operator.Dockerfile sets the same string, a test keeps them equal).${r.buildNote ? ` Build: ${r.buildNote}.` : ''}`,
    '',
    `| measure | ${head.join(' | ')} |`,
    `|---|${r.runs.map(() => '---:').join('|')}|`,
    row(
      'spawn → all sidecars synced (list, compile, pushes, then 2 s quiet)',
      (x) => `${fmt.ms(x.readyMs / 1000, 1)} s`,
    ),
    row('snapshots sent but not ACKed by then', (x) => String(x.unacked)),
    row('VmHWM at that point (startup peak)', (x) => `${fmt.mb(x.startupPeak)} MB`),
    row('VmRSS idle after sync (median over 5 s)', (x) => `${fmt.mb(x.idle)} MB`),
    row(`VmRSS max during ${r.edits} edits`, (x) => `${fmt.mb(x.editsMax)} MB`),
    row('**VmHWM at the end (peak of the whole run)**', (x) => `**${fmt.mb(x.peak)} MB**`),
    '',
    `Operator RSS with ${r.policies} policies, shipped flags, peak = **${shipped ? fmt.mb(shipped.peak) : '—'} MB** (issue #4 target ≤ 250 MB).`,
  ].join('\n');
}

export const operatorRssSuite = defineSuite<OperatorRssResult>({
  name: 'operator-rss',
  title: 'Operator memory: 1,000 policies × 50 providers on a real apiserver (issue #4)',
  run: operatorRss,
  markdown,
  checks: (r) => {
    const shipped = r.runs.find((x) => x.nodeOptions === r.shippedNodeOptions) ?? r.runs[r.runs.length - 1];
    return [
      {
        metric: 'operator RSS peak, 1,000 policies × 50 providers, 50 sidecars, shipped flags (#4)',
        value: shipped ? `${fmt.mb(shipped.peak)} MB` : 'no run',
        target: '≤ 250 MB',
        pass: shipped !== undefined && shipped.peak <= TARGET_RSS,
      },
    ];
  },
});
