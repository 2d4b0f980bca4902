// Runs scorecard scenarios against gateways: per scenario, fresh fake upstreams (simulated providers,
// test/fakes) and a freshly started gateway, so no breaker or pool state leaks between scenarios; per
// call, the fakes are reset and scripted, the call is made, and the scenario's judge grades it.
import { Agent } from 'undici';
import { startFakeProvider, type FakeProvider, type RecordedRequest } from '../../test/fakes/index.ts';
import type { Gateway, RunningGateway } from '../peers/gateway.ts';
import { sendChat } from './exchange.ts';
import { judgeBilling, worst, type Grade, type Verdict } from './judges.ts';
import { read } from './reading.ts';
import {
  DEADLINE_MS,
  fallbackOk,
  MODEL,
  primaryOk,
  SCENARIOS,
  type Observation,
  type Scenario,
  type ScenarioCall,
} from './scenarios.ts';

export interface CallRecord {
  stream: boolean;
  grade: Grade;
  reason: string;
  elapsedMs: number;
  status?: number;
  primaryAttempts: number;
  fallbackAttempts: number;
}

export interface ScenarioResult extends Verdict {
  calls: CallRecord[];
  /** The gateway ran with the primary alone though the scenario has a fallback (it cannot have one). */
  noFallback: boolean;
}

export interface Cell {
  scenario: string;
  gateway: string;
  /** `not run` when the gateway could not be installed or started. */
  grade: Grade | 'not run';
  reason: string;
  seconds: number;
  noFallback?: boolean;
  calls?: CallRecord[];
}

export interface ScorecardResult {
  deadlineMs: number;
  gateways: { name: string; version: string; error?: string }[];
  scenarios: { id: string; title: string; passes: string }[];
  cells: Cell[];
}

const inference = (fake: FakeProvider | undefined): RecordedRequest[] =>
  fake ? fake.requests.filter((r) => r.endpoint === 'chat.completions') : [];

interface Fakes {
  primary: FakeProvider;
  fallback: FakeProvider | undefined;
}

/** One call: the fakes reset and scripted, the call made, its judge and the billing check applied. */
async function runCall(
  running: RunningGateway,
  scenario: Scenario,
  call: ScenarioCall,
  { primary, fallback }: Fakes,
  agent: Agent,
): Promise<CallRecord> {
  primary.reset();
  primary.setDefault(scenario.primaryThen ?? primaryOk);
  primary.script(call.primary);
  fallback?.reset();
  fallback?.setDefault(fallbackOk);
  const exchange = await sendChat(running, MODEL, { stream: call.stream }, DEADLINE_MS, agent);
  const o: Observation = {
    call,
    exchange,
    reading: read(exchange),
    primary: [...inference(primary)],
    fallback: [...inference(fallback)],
  };
  const v = worst(scenario.judge(o), judgeBilling([...o.primary, ...o.fallback]));
  return {
    stream: call.stream,
    grade: v.grade,
    reason: v.reason,
    elapsedMs: Math.round(exchange.elapsedMs),
    ...(exchange.status !== undefined && { status: exchange.status }),
    primaryAttempts: o.primary.length,
    fallbackAttempts: o.fallback.length,
  };
}

/** Runs one scenario against one gateway and grades it: the worst call decides. */
export async function runScenario(gateway: Gateway, scenario: Scenario): Promise<ScenarioResult> {
  const noFallback = scenario.route === 'fallback' && gateway.singleTargetOnly === true;
  const primary = await startFakeProvider({ dialect: 'openai' });
  const fallback = scenario.route === 'fallback' ? await startFakeProvider({ dialect: 'openai' }) : undefined;
  const agent = new Agent({ keepAliveTimeout: 5_000 });
  let running: RunningGateway | undefined;
  try {
    const routes = {
      model: MODEL,
      primaryUrl: primary.origin,
      ...(fallback && !noFallback && { fallbackUrl: fallback.origin }),
    };
    // A second try: a server that fails to come up once (a port taken meanwhile) says nothing about failover.
    running = await gateway.start(routes).catch(() => gateway.start(routes));
    const calls: CallRecord[] = [];
    for (const call of scenario.calls)
      calls.push(await runCall(running, scenario, call, { primary, fallback }, agent));
    return { ...summarise(calls), calls, noFallback };
  } finally {
    // The fakes first: closing them releases hung upstream sockets the gateway may still hold open.
    await agent.destroy();
    await primary.close();
    await fallback?.close();
    await running?.stop();
  }
}

/** The worst call decides, named by its place and kind; when every call of the other kind passed, the reason says so. */
function summarise(calls: CallRecord[]): Verdict {
  const label = (c: CallRecord, i: number) => {
    const mode = c.stream ? 'stream' : 'JSON';
    return calls.length > 1 ? `call ${i + 1} (${mode})` : `${mode} call`;
  };
  const v = worst(...calls.map((c, i) => ({ grade: c.grade, reason: `${label(c, i)}: ${c.reason}` })));
  if (v.grade === 'pass') return v;
  const passedAll = (stream: boolean) => {
    const kind = calls.filter((c) => c.stream === stream);
    return kind.length > 0 && kind.every((c) => c.grade === 'pass');
  };
  const other = passedAll(true) ? 'stream' : passedAll(false) ? 'JSON' : undefined;
  return other ? { grade: v.grade, reason: `${v.reason}; the ${other} calls pass` } : v;
}

export interface RunOptions {
  scenarios?: readonly Scenario[];
  log?: (line: string) => void;
}

/** Every scenario against every gateway; a gateway that cannot be installed or started is `not run`. */
export async function runScorecard(
  gateways: readonly Gateway[],
  opts: RunOptions = {},
): Promise<ScorecardResult> {
  const scenarios = opts.scenarios ?? SCENARIOS;
  const log = opts.log ?? (() => undefined);
  const result: ScorecardResult = {
    deadlineMs: DEADLINE_MS,
    gateways: [],
    scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, passes: s.passes })),
    cells: [],
  };
  for (const gateway of gateways) {
    let installError: string | undefined;
    try {
      await gateway.ensureInstalled();
    } catch (e) {
      installError = e instanceof Error ? e.message : String(e);
    }
    const version = installError ? 'n/a' : await gateway.version().catch(() => 'unknown');
    result.gateways.push({ name: gateway.name, version, ...(installError && { error: installError }) });
    for (const scenario of scenarios) {
      const started = performance.now();
      const cell: Cell = {
        scenario: scenario.id,
        gateway: gateway.name,
        grade: 'not run',
        reason: '',
        seconds: 0,
      };
      if (installError) cell.reason = `not installed: ${installError.split('\n')[0] ?? ''}`;
      else {
        try {
          const r = await runScenario(gateway, scenario);
          Object.assign(cell, { grade: r.grade, reason: r.reason, calls: r.calls, noFallback: r.noFallback });
        } catch (e) {
          cell.reason = `could not run: ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''}`;
        }
      }
      cell.seconds = Math.round((performance.now() - started) / 100) / 10;
      log(
        `scorecard: ${gateway.name} × ${scenario.id}: ${cell.grade}${cell.grade === 'pass' ? '' : ` (${cell.reason})`}`,
      );
      result.cells.push(cell);
    }
  }
  return result;
}
