// The shared setup of the peer benchmark: the simulated OpenAI upstreams (bench/upstream-process.ts, each
// its own process on the load generator's core) and every gateway started for the single-target and the
// fallback route, with what failed to install or start kept as a message rather than skipped.
import { here } from '../processes.ts';
import type { Gateway, RunningGateway } from './gateway.ts';
import { spawnServer, waitForOutput, type ServerProcess } from './spawn.ts';

export const MODEL = 'gpt-4o-mini';
/** Each stream is 20 content deltas 1 ms apart, as in the stream-ttft suite, so TTFT and total differ. */
export const OK_STEP = { kind: 'ok', chunks: 20, chunkDelayMs: 1 } as const;
export const DOWN_STEP = { kind: 'status', status: 503 } as const;

export interface Fake {
  /** scheme://host:port, no path (what GatewayRoutes takes). */
  origin: string;
  /** The OpenAI base URL, ending in /v1 (what a client takes). */
  baseUrl: string;
  server: ServerProcess;
}

export async function startFake(step: object, cpus: string | undefined): Promise<Fake> {
  const server = spawnServer(
    process.execPath,
    [here('./upstream-process.ts'), JSON.stringify(step)],
    cpus === undefined ? {} : { cpus },
  );
  const m = await waitForOutput(server, /listening (http:\/\/\S+)/, 'fake upstream');
  const baseUrl = m[1] ?? '';
  return { origin: new URL(baseUrl).origin, baseUrl, server };
}

export interface GatewayUnderTest {
  gateway: Gateway;
  version: string;
  /** Why it is not measured: the exact install or start error. */
  error?: string;
  single?: RunningGateway;
  /** Absent for a single-target-only gateway (the pass-through). */
  fallback?: RunningGateway;
}

export async function startGateway(
  gateway: Gateway,
  fakes: { single: Fake; primary: Fake; fallback: Fake },
  cpus: string | undefined,
): Promise<GatewayUnderTest> {
  const options = cpus === undefined ? {} : { cpus };
  const out: GatewayUnderTest = { gateway, version: 'n/a' };
  try {
    await gateway.ensureInstalled();
    out.version = await gateway.version();
  } catch (e) {
    out.error = `not installed: ${e instanceof Error ? e.message : String(e)}`;
    return out;
  }
  try {
    out.single = await gateway.start({ model: MODEL, primaryUrl: fakes.single.origin }, options);
    if (gateway.singleTargetOnly !== true)
      out.fallback = await gateway.start(
        { model: MODEL, primaryUrl: fakes.primary.origin, fallbackUrl: fakes.fallback.origin },
        options,
      );
  } catch (e) {
    out.error = `did not start: ${e instanceof Error ? e.message : String(e)}`;
    await stopGateway(out);
  }
  return out;
}

export async function stopGateway(g: GatewayUnderTest): Promise<void> {
  await g.single?.stop();
  await g.fallback?.stop();
  delete g.single;
  delete g.fallback;
}
