// The peers' closed loop: for one route kind, the direct path and every gateway take turns request by
// request (inTurns in bench/load.ts), each on its own keep-alive connection, so a busy moment of the
// machine lands on every gateway alike instead of on whichever one's round it fell in. A path whose
// exchange fails (a non-200, a stream without [DONE]) is recorded and the round goes on without it.
import { inTurns, PathFailed, type TurnPath } from '../load.ts';

export type PathName = 'single' | 'fallback' | 'ttft';

/** A path set to measure: the direct path (straight to the fakes) or one gateway. */
export interface TurnTarget {
  key: string;
  single: string;
  /** Absent where there is no fallback route (the pass-through). */
  fallback?: string;
  headers: Record<string, string>;
}

export type PathErrors = (key: string) => Partial<Record<PathName, string>>;

const urlFor = (t: TurnTarget, kind: PathName) => (kind === 'fallback' ? t.fallback : t.single);

/**
 * `n` exchanges of `kind` on every target that has that route and has not failed it, in turns. Returns
 * each target's latencies in µs: to the last byte for non-stream routes, to the first token for streams (TTFT).
 */
export async function turnsRound(
  kind: PathName,
  targets: readonly TurnTarget[],
  n: number,
  errorsOf: PathErrors,
): Promise<Map<string, number[]>> {
  let live = targets.filter((t) => urlFor(t, kind) !== undefined && errorsOf(t.key)[kind] === undefined);
  while (live.length > 0) {
    const paths: Record<string, TurnPath> = {};
    for (const t of live) paths[t.key] = { url: urlFor(t, kind) ?? '', headers: t.headers };
    try {
      const out = await inTurns(paths, n, kind === 'ttft' ? 'stream' : 'json');
      return new Map(
        Object.entries(out).map(([key, exchanges]) => [
          key,
          exchanges.map((e) => (kind === 'ttft' ? e.firstToken : e.total)),
        ]),
      );
    } catch (e) {
      if (!(e instanceof PathFailed)) throw e;
      errorsOf(e.path)[kind] = e.message;
      live = live.filter((t) => t.key !== e.path);
    }
  }
  return new Map();
}
