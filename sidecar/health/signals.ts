// How the `turnout dev` and `turnout sidecar` processes stop: the first SIGTERM or SIGINT starts a
// graceful shutdown, a second one ends its drain window at once, a third exits on the spot.
import { isDuration, parseDuration } from '../../api/duration.ts';

export const DRAIN_TIMEOUT_ENV = 'TURNOUT_DRAIN_TIMEOUT';
/** A drain window longer than this is a typo: a pod's grace period is minutes at most. */
const MAX_DRAIN_MS = 3_600_000;

/** `--drain-timeout` text as milliseconds (0 cuts calls in flight at once); undefined when invalid. */
export function parseDrainWindow(text: string): number | undefined {
  if (!isDuration(text)) return undefined;
  const ms = parseDuration(text);
  return ms <= MAX_DRAIN_MS ? ms : undefined;
}

export const DRAIN_WINDOW_HINT = 'a duration from 0s to 1h, like 25s';

export type StopSignal = 'SIGTERM' | 'SIGINT';

/** Resolves with the first SIGTERM or SIGINT; while waiting, they no longer kill the process. */
export function firstStopSignal(): Promise<StopSignal> {
  return new Promise((resolve) => {
    const on = (signal: StopSignal) => () => {
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
      resolve(signal);
    };
    const term = on('SIGTERM');
    const int = on('SIGINT');
    process.once('SIGTERM', term);
    process.once('SIGINT', int);
  });
}

/**
 * After the first signal: the next one calls `endWindow` (cut calls in flight now, then exit as usual),
 * and the one after exits with code 1 at once. Returns whether a repeat signal came, and a detach.
 */
export function onRepeatedSignals(endWindow: () => void): { repeated: () => boolean; detach: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) endWindow();
    else process.exit(1);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    repeated: () => count > 0,
    detach: () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
