import type { Decision } from '../upstream/call.ts';

/**
 * One word for how a call ended, shared by the decision log, the call span and the requests metric:
 * ok, cache_hit, caller_disconnected, upstream_error (an upstream's refusal returned as is), or the
 * Turnout error code (budget_exceeded, rate_limited, upstream_unavailable, upstream_stream_error, …).
 */
export function outcomeOf(d: Decision): string {
  if (d.cacheHit) return 'cache_hit';
  if (d.status === 499) return 'caller_disconnected';
  if (d.errorCode !== undefined) return d.errorCode;
  if (d.status >= 400) return 'upstream_error';
  return 'ok';
}

/**
 * Outcomes that are the sidecar's or an upstream's failure (an error on the span), not the caller's
 * request — nor the caller's choice to leave (499), even when that cut a stream.
 */
export function failed(d: Decision): boolean {
  if (d.status === 499) return false;
  return d.errorCode !== undefined || d.status >= 500;
}
