// Fleet budgets end to end on a real apiserver: `turnout operator` and three `turnout sidecar` processes
// with real pod-bound tokens. Concurrent load through all three sidecars spends one policy budget; the
// fleet stays within the limit plus the documented bound (operator/budgets/README.md), refusals are 429
// budget_exceeded, RoutingPolicy status.spend shows the fleet total, and an operator restart loses none
// of it while the sidecars keep enforcing. A second, header-scoped budget shows its scopes in status as
// /metrics does (redacted and cut), still totalled per raw header value, across the restart too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  createNamespace,
  createPod,
  eventually,
  makeTestTls,
  mintToken,
  spawnSidecar,
  type SidecarProcess,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { apply, ok, startTurnoutControlPlane } from './operator-harness.ts';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const NS = 'fleet-budget';
/** USD per 1M tokens: a call of 1 prompt token and ≤ 16 output tokens costs at most $0.017. */
const PRICE = 1000;
const MAX_TOKENS = 16;
const WORST_CASE_USD = ((1 + MAX_TOKENS) * PRICE) / 1e6;
/** Affords 10 calls at the worst-case reservation. */
const LIMIT_USD = 10 * WORST_CASE_USD;
const SIDECARS = 3;
/**
 * The documented bound (operator/budgets/README.md, "The bound"): while every sidecar is connected, the
 * fleet overspends by at most its cost overruns (actual cost above the call's reservation). There are
 * none here: the mock's answer fits max_tokens, and checkOutcomes() checks every call against it.
 */
const BOUND_USD = 0;
/**
 * x-team values the calls take turns with: two secret-shaped ones that redact to the same text, one too
 * long to show whole, one shown as sent. None may appear raw in status.
 */
const TEAMS = [
  'Bearer sk-proj-TEAMSECRETAAAA0123456789',
  'Bearer sk-proj-TEAMSECRETBBBB0123456789',
  'L'.repeat(100),
  'blue',
];
const RAW_TEAM_TEXT = ['TEAMSECRET', 'L'.repeat(65)];

const objects = (limitUSD: number) => [
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'ModelProvider',
    metadata: { name: 'sim', namespace: NS },
    spec: {
      type: 'mock',
      models: [{ name: 'm1', pricing: { input: PRICE, output: PRICE } }],
      mock: { latency: '50ms' },
    },
  },
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: { name: 'app', namespace: NS },
    spec: {
      workloadSelector: { matchLabels: { app: 'bot' } },
      routes: [{ name: 'main', match: { model: ['chat'] }, targets: [{ provider: 'sim', model: 'm1' }] }],
      budgets: [
        { name: 'monthly', limitUSD, window: 'month', scope: 'policy', action: 'reject' },
        // Never the one that refuses: it is here for what status shows of its scopes.
        { name: 'per-team', limitUSD: 1000, window: 'month', scope: 'header:x-team', action: 'reject' },
      ],
    },
  },
];

interface SpendEntry {
  budget: string;
  scopeKey?: string;
  usedUSD: string;
}

interface Outcome {
  team: string;
  status: number;
  costUSD: number;
  code: string | undefined;
}

describe('fleet budgets across turnout sidecars (real apiserver)', () => {
  let cp: ControlPlane;
  let tls: TestTls;
  let dir: string;
  let operator: ChildProcess | undefined;
  let operatorOutput = '';
  let operatorUrl = '';
  const sidecars: SidecarProcess[] = [];
  const kubectl = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);

  const startOperator = async () => {
    operatorOutput = '';
    operator = spawn(
      process.execPath,
      [CLI, 'operator', '--kubeconfig', cp.kubeconfig, '--tls-cert', tls.cert, '--tls-key', tls.key],
      {
        env: {
          ...cp.env,
          TURNOUT_PUSH_LISTEN: operatorUrl || '127.0.0.1:0',
          TURNOUT_LEASE_NAMESPACE: 'default',
        },
      },
    );
    operator.stdout?.on('data', (c: Buffer) => (operatorOutput += c.toString()));
    operator.stderr?.on('data', (c: Buffer) => (operatorOutput += c.toString()));
    const serving = /"component":"push","msg":"serving","url":"https:\/\/([^"]+)"/;
    await eventually('operator serving', () => serving.test(operatorOutput), 60_000).catch((e: Error) =>
      assert.fail(`${e.message}\n${operatorOutput}`),
    );
    operatorUrl = serving.exec(operatorOutput)?.[1] ?? '';
  };

  before(
    async () => {
      cp = await startTurnoutControlPlane(true);
      tls = await makeTestTls();
      dir = await mkdtemp(join(tmpdir(), 'turnout-fleet-budget-'));
      await createNamespace(kubectl, NS);
      assert.equal((await kubectl(['label', 'namespace', NS, 'turnout.dev/inject=enabled'])).code, 0);
      await apply(cp, ...objects(LIMIT_USD));
      const pods = [];
      for (let i = 0; i < SIDECARS; i++) pods.push(await createPod(kubectl, NS, `bot-${i}`, { app: 'bot' }));
      await startOperator();
      for (const pod of pods) {
        const tokenFile = join(dir, `${pod.name}.token`);
        await writeFile(tokenFile, await mintToken(kubectl, NS, { audience: 'turnout', pod }));
        sidecars.push(
          await spawnSidecar({
            TURNOUT_OPERATOR_URL: `https://${operatorUrl}`,
            TURNOUT_CA_FILE: tls.caFile,
            TURNOUT_TOKEN_FILE: tokenFile,
            TURNOUT_POD_NAMESPACE: NS,
            TURNOUT_POD_NAME: pod.name,
            TURNOUT_SPEND_INTERVAL: '200ms',
          }),
        );
      }
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const s of sidecars) await s.stop();
    if (operator?.exitCode === null) operator.kill('SIGKILL');
    await tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  const call = async (s: SidecarProcess, team: string): Promise<Outcome> => {
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-team': team },
      body: JSON.stringify({
        model: 'chat',
        max_tokens: MAX_TOKENS,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const body = (await res.json()) as { error?: { code?: string } };
    return {
      team,
      status: res.status,
      costUSD: Number(res.headers.get('x-turnout-cost-usd') ?? 0),
      code: body.error?.code,
    };
  };
  /** `total` calls, `perSidecar` at a time through each sidecar. */
  const load = async (total: number, perSidecar: number): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    let started = 0;
    const worker = async (s: SidecarProcess) => {
      while (started < total) {
        const team = TEAMS[started++ % TEAMS.length] ?? 'blue';
        out.push(await call(s, team));
      }
    };
    await Promise.all(sidecars.flatMap((s) => Array.from({ length: perSidecar }, () => worker(s))));
    return out;
  };
  const spendInStatus = async (): Promise<number | undefined> => {
    const out = await kubectl(['-n', NS, 'get', 'rp', 'app', '-o', 'json']);
    const status = (JSON.parse(out.stdout) as { status?: { spend?: { budget: string; usedUSD: string }[] } })
      .status;
    const entry = status?.spend?.find((e) => e.budget === 'monthly');
    return entry && Number(entry.usedUSD);
  };
  /** status.spend of the per-team budget: scopeKey → usedUSD. */
  const teamsInStatus = async (): Promise<Map<string | undefined, number>> => {
    const out = await kubectl(['-n', NS, 'get', 'rp', 'app', '-o', 'json']);
    const spend = (JSON.parse(out.stdout) as { status?: { spend?: SpendEntry[] } }).status?.spend ?? [];
    const teams = spend.filter((e) => e.budget === 'per-team');
    assert.equal(new Set(teams.map((e) => e.scopeKey)).size, teams.length, 'one entry per scope');
    return new Map(teams.map((e) => [e.scopeKey, Number(e.usedUSD)]));
  };
  /** Every team's spend is in status, each under a label of its own, none with its raw value. */
  const sameTeams = (shown: Map<string | undefined, number>, byTeam: Map<string, number>) =>
    shown.size === byTeam.size &&
    [...byTeam.values()].every(
      (usd) => [...shown.values()].filter((v) => Math.abs(v - usd) < 1e-6).length > 0,
    ) &&
    Math.abs(
      [...shown.values()].reduce((a, b) => a + b, 0) - [...byTeam.values()].reduce((a, b) => a + b, 0),
    ) < 1e-6;
  const synced = async () => {
    const out = await kubectl(['-n', NS, 'get', 'rp', 'app', '-o', 'json']);
    return (JSON.parse(out.stdout) as { status?: { sidecars?: { synced?: number } } }).status?.sidecars
      ?.synced;
  };
  const sum = (outcomes: Outcome[]) => outcomes.reduce((n, o) => n + o.costUSD, 0);
  const addByTeam = (into: Map<string, number>, outcomes: Outcome[]) => {
    for (const o of outcomes) if (o.costUSD > 0) into.set(o.team, (into.get(o.team) ?? 0) + o.costUSD);
  };
  const describeRun = (outcomes: Outcome[]) =>
    `${outcomes.filter((o) => o.status === 200).length} of ${outcomes.length} ok, costing $${sum(outcomes).toFixed(6)}`;
  const checkOutcomes = (outcomes: Outcome[]) => {
    for (const o of outcomes) {
      if (o.status === 200)
        assert.ok(o.costUSD > 0 && o.costUSD <= WORST_CASE_USD + 1e-9, `cost ${o.costUSD}`);
      else assert.deepEqual([o.status, o.code], [429, 'budget_exceeded']);
    }
  };
  let spent = 0;
  const spentByTeam = new Map<string, number>();
  /** The per-team entries status showed before the operator restart. */
  let teamsBefore = new Map<string | undefined, number>();

  it('60 concurrent calls through 3 sidecars stay within the fleet budget; the rest get 429 budget_exceeded', async (t) => {
    await eventually('every sidecar synced', async () => (await synced()) === SIDECARS, 60_000);
    // Leases travel with the snapshot stream; give the last flush a moment.
    await sleep(500);
    const outcomes = await load(60, 3);
    checkOutcomes(outcomes);
    spent = sum(outcomes);
    addByTeam(spentByTeam, outcomes);
    t.diagnostic(`${describeRun(outcomes)}; limit $${LIMIT_USD}`);
    const admitted = outcomes.filter((o) => o.status === 200).length;
    assert.ok(admitted >= SIDECARS, `every sidecar could spend its share: ${describeRun(outcomes)}`);
    assert.ok(admitted < 60, `the budget must have stopped some calls: ${describeRun(outcomes)}`);
    assert.ok(spent <= LIMIT_USD + BOUND_USD + 1e-9, `fleet overspent: ${describeRun(outcomes)}`);
    // Every sidecar served part of it: this is a fleet figure, not one sidecar's.
    for (const s of sidecars)
      assert.ok(
        s.lines.some((l) => l.msg === 'decision'),
        'a sidecar got no call',
      );
  });

  it('shows the fleet total in RoutingPolicy status.spend', async () => {
    await eventually(
      `status.spend = $${spent.toFixed(6)}`,
      async () => Math.abs(((await spendInStatus()) ?? -1) - spent) < 1e-6,
      30_000,
    );
  });

  it('shows header scopes in status.spend as /metrics does: redacted and cut, one entry per raw value', async () => {
    await eventually(
      'every team’s spend in status',
      async () => sameTeams(await teamsInStatus(), spentByTeam),
      30_000,
    );
    teamsBefore = await teamsInStatus();
    const keys = [...teamsBefore.keys()].map(String);
    for (const raw of RAW_TEAM_TEXT)
      assert.ok(!keys.some((k) => k.includes(raw)), `raw ${raw} in status: ${keys.join(', ')}`);
    assert.ok(
      Math.abs((teamsBefore.get('blue') ?? -1) - (spentByTeam.get('blue') ?? 0)) < 1e-6,
      'a plain value is shown as sent',
    );
    const hashed = keys.filter((k) => /^Bearer \[REDACTED\]#[0-9a-f]{16}$/.test(k));
    assert.equal(hashed.length, 2, `the two secret-shaped teams, told apart: ${keys.join(', ')}`);
    assert.ok(
      keys.some((k) => /^L{64}…#[0-9a-f]{16}$/.test(k)),
      `the long team, cut: ${keys.join(', ')}`,
    );
    // The sidecars' budget gauges name the same scopes the same way.
    const metrics = (
      await Promise.all(sidecars.map(async (s) => (await fetch(`${s.url}/metrics`)).text()))
    ).join('\n');
    for (const k of keys)
      assert.ok(metrics.includes(`scope="header:x-team=${k}"`), `no gauge for scope ${k} in /metrics`);
  });

  it('counts a departed pod’s spend, and loses none of the total when the operator restarts', async () => {
    // bot-2 goes away for good: from now on its spend lives only in the aggregate, then in status.
    const gone = sidecars.pop();
    assert.equal(await gone?.stop(), 0);
    ok(await kubectl(['-n', NS, 'delete', 'pod', 'bot-2', '--grace-period=0', '--force']));
    await sleep(1000);
    assert.ok(
      Math.abs(((await spendInStatus()) ?? -1) - spent) < 1e-6,
      'spend of a deleted pod still counted',
    );
    operator?.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => operator?.once('exit', resolve)), 0);
    await startOperator();
    for (const s of sidecars)
      await eventually(
        'sidecar reconnected',
        () => s.lines.filter((l) => l.msg === 'sync.connected').length >= 2,
        60_000,
      );
    await eventually(
      'the live sidecars synced again',
      async () => (await synced()) === sidecars.length,
      60_000,
    );
    // The new leader seeded from status (bot-2's share exists nowhere else), and the live sidecars'
    // re-reports of spend already in that seed are not counted twice.
    for (let i = 0; i < 5; i++) {
      const now = await spendInStatus();
      assert.ok(Math.abs((now ?? -1) - spent) < 1e-6, `status after restart: ${now}, want ${spent}`);
      // Read back from labels, matched to the raw scopes the live sidecars report: nothing split or doubled.
      assert.deepEqual(await teamsInStatus(), teamsBefore, 'per-team status after restart');
      await sleep(500);
    }
  });

  it('keeps enforcing after the restart, against the preserved fleet total', async (t) => {
    // Twice the budget: the sidecars may spend what is left of it, and not a cent of what bot-2 spent.
    const limit = 2 * LIMIT_USD;
    await apply(cp, ...objects(limit));
    await eventually(
      'the raised limit reached every sidecar',
      async () => (await synced()) === sidecars.length,
      60_000,
    );
    await sleep(500);
    const outcomes = await load(60, 3);
    checkOutcomes(outcomes);
    const total = spent + sum(outcomes);
    addByTeam(spentByTeam, outcomes);
    t.diagnostic(
      `after the restart: ${describeRun(outcomes)}; fleet total $${total.toFixed(6)} of $${limit}`,
    );
    assert.ok(total <= limit + BOUND_USD + 1e-9, `fleet overspent after the restart: $${total} of $${limit}`);
    assert.ok(
      outcomes.some((o) => o.status === 200),
      'the raised limit admits calls again',
    );
    assert.ok(
      outcomes.some((o) => o.status === 429),
      'and still stops them at the fleet limit',
    );
    await eventually(
      `status.spend = $${total.toFixed(6)}`,
      async () => Math.abs(((await spendInStatus()) ?? -1) - total) < 1e-6,
      30_000,
    );
    await eventually(
      'per-team status: the seeds plus the new spend',
      async () => sameTeams(await teamsInStatus(), spentByTeam),
      30_000,
    );
    const blue = (await teamsInStatus()).get('blue') ?? -1;
    assert.ok(Math.abs(blue - (spentByTeam.get('blue') ?? 0)) < 1e-6, `blue: ${blue}`);
  });
});
