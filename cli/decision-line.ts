import type { Decision } from '../sidecar/index.ts';
import { isRefusal } from '../sidecar/telemetry/index.ts';

/** One human line per routing decision, for `turnout dev`: where it went, what failed on the way, cost. */
export function decisionLine(d: Decision): string {
  const time = d.time.slice(11, 23);
  // Refused before routing: no route or attempts to show, but why (the message is capped already).
  if (isRefusal(d))
    return printable(
      `${time} ${d.status} refused ${d.api ?? ''} error=${d.errorCode ?? ''}: ${d.errorMessage ?? ''}`,
    );
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
  // The model name is the caller's, and reasons can quote upstream messages: escaped, so that a name
  // holding a newline or a terminal escape sequence cannot forge lines or repaint the terminal.
  return printable(
    `${time} ${d.status} ${d.stream ? 'stream ' : ''}model=${d.requestedModel} route=${d.policy}/${d.route} (${d.strategy}) ${path || '-'}${skipped} ${d.latencyMs}ms${tokens}${cost}${sim}${err}`,
  );
}

/**
 * C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidirectional overrides
 * (which can make a line read differently from what it holds).
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every unprintable character written as an escape (\n, \x1b, \u2028). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return (
      NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`)
    );
  });
}
