// How a soak run is judged. An error is explained only when an injected fault left no way to save the
// call and the caller was told cleanly: a stream the primary cut after it had been committed (no
// failover is possible once bytes went out) that ended with an in-band error event, the text before it
// intact. Every other error — including an error answer to a call the secondary could have served — is
// unexplained. The sidecar must also report no internal error, and its decision log must say what the
// callers saw. Memory and descriptors are judged after warm-up: the median of the second window against
// that of the last one (windows of a minute in a 10-minute run).
import type { Failure, LoadTotals } from './load.ts';

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  rss: number;
  fds: number;
  heapUsed: number;
  /** Calls the load had sent and not yet seen answered: upstream connections follow it. */
  inflight: number;
}

export const RSS_TOLERANCE = 0.1;
/** Under load, descriptors follow concurrency (connections opened to the upstreams); reported only. */
const FD_SLACK = (baseline: number) => Math.max(4, Math.round(baseline * 0.05));
/** Idle, after the load: the count before the load plus at most this many (a log file, a timer fd). */
export const FD_IDLE_SLACK = 2;

/** A line `turnout dev` writes to stderr when something failed inside the sidecar: a bug, never a fault. */
export const isInternalErrorLine = (line: string): boolean => /^internal error\b/.test(line);

/** A decision log record, as the soak reads it from `turnout dev --json`. */
export interface LoggedDecision {
  status?: number;
  outcome?: string;
}

/**
 * How the decision log files a call, in terms a caller can check: "200 ok" (answered), "200 <code>" (a
 * stream that ended with an in-band error), or the status of an error answer.
 */
export function decisionClass(d: LoggedDecision): string {
  if (d.status !== 200) return String(d.status);
  return `200 ${d.outcome === 'cache_hit' ? 'ok' : (d.outcome ?? '?')}`;
}

/** How callers saw the calls, in decisionClass's terms. A wrong answer was served as an answer. */
export function callerClasses(totals: Pick<LoadTotals, 'ok' | 'failures'>): Map<string, number> {
  const seen = new Map<string, number>([['200 ok', totals.ok.stream + totals.ok.json]]);
  for (const f of totals.failures) {
    const key =
      f.kind === 'http-error'
        ? String(f.status)
        : f.kind === 'in-band-error'
          ? `200 ${f.code ?? '?'}`
          : f.kind === 'wrong-answer'
            ? '200 ok'
            : f.kind; // truncated, transport: no decision can be filed so
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

/**
 * Where the decision log and the callers disagree, one line per class: a call the log files as answered
 * that its caller saw fail, an error the log never recorded, a call logged twice or not at all.
 */
export function disagreements(
  seen: ReadonlyMap<string, number>,
  logged: ReadonlyMap<string, number>,
): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...seen.keys(), ...logged.keys()])].sort()) {
    const callers = seen.get(key) ?? 0;
    const decisions = logged.get(key) ?? 0;
    if (callers !== decisions) out.push(`${key}: callers saw ${callers}, the decision log has ${decisions}`);
  }
  return out;
}

export function isExplained(f: Failure, faults: ReadonlyMap<number, readonly string[]>): boolean {
  return (
    f.kind === 'in-band-error' &&
    f.provider === 'primary' &&
    f.prefixIntact === true &&
    (faults.get(f.id) ?? []).includes('cut-stream')
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

export interface Flatness {
  windowS: number;
  baseline: { rss: number; fds: number; heapUsed: number; samples: number };
  final: { rss: number; fds: number; heapUsed: number; samples: number; fdsMax: number };
  rssChange: number;
  rssFlat: boolean;
  fdGrowth: number;
  fdSlack: number;
  fdFlat: boolean;
}

export function flatness(samples: readonly Sample[], seconds: number): Flatness {
  const windowS = Math.min(60, seconds / 5);
  const baseline = samples.filter((s) => s.t >= windowS && s.t < 2 * windowS);
  const final = samples.filter((s) => s.t >= seconds - windowS);
  const of = (set: readonly Sample[]) => ({
    rss: median(set.map((s) => s.rss)),
    fds: median(set.map((s) => s.fds)),
    heapUsed: median(set.map((s) => s.heapUsed)),
    samples: set.length,
  });
  const b = of(baseline);
  const f = { ...of(final), fdsMax: Math.max(...final.map((s) => s.fds)) };
  const rssChange = (f.rss - b.rss) / b.rss;
  const fdSlack = FD_SLACK(b.fds);
  return {
    windowS,
    baseline: b,
    final: f,
    rssChange,
    rssFlat: Math.abs(rssChange) <= RSS_TOLERANCE,
    fdGrowth: f.fds - b.fds,
    fdSlack,
    fdFlat: f.fds - b.fds <= fdSlack,
  };
}

/** Failures grouped by what the caller saw, e.g. "stream in-band-error upstream_stream_error". */
export function tally(failures: readonly Failure[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of failures) {
    const key = [
      f.stream ? 'stream' : 'non-stream',
      f.kind,
      f.status,
      f.code,
      f.provider && `via ${f.provider}`,
    ]
      .filter((x) => x !== undefined && x !== '')
      .join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
