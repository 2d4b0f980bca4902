import type { Decision } from '../sidecar/index.ts';

/** One human line per routing decision, for `turnout dev`: where it went, what failed on the way, cost. */
export function decisionLine(d: Decision): string {
  const time = d.time.slice(11, 23);
  const path = d.attempts
    .map(
      (a) =>
        `${a.provider}/${a.model} ${a.outcome === 'ok' ? `✓${a.status ?? ''}` : `✗${a.status ?? a.outcome}`}`,
    )
    .join(' → ');
  const skipped =
    d.skipped.length > 0
      ? ` skipped[${d.skipped.map((s) => `${s.provider}/${s.model}: ${s.reason}`).join('; ')}]`
      : '';
  const tokens = d.usage ? ` ${d.usage.inputTokens}+${d.usage.outputTokens}tok` : '';
  const cost = d.costUSD !== undefined ? ` $${d.costUSD.toFixed(6)}` : '';
  const sim = d.simulated ? ' [simulated]' : '';
  const err = d.errorCode ? ` error=${d.errorCode}` : '';
  return `${time} ${d.status} ${d.stream ? 'stream ' : ''}model=${d.requestedModel} route=${d.policy}/${d.route} (${d.strategy}) ${path || '-'}${skipped} ${d.latencyMs}ms${tokens}${cost}${sim}${err}`;
}
