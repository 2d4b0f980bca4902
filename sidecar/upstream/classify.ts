// The one place that decides whether a failed attempt may be retried elsewhere, and under which class.
import type { FailureClass } from '../../api/index.ts';
import type { ErrorKind } from '../translate/index.ts';

export interface AttemptFailure {
  /** Undefined when the failure must go back to the caller as is (a 4xx other than 429/408). */
  failureClass: FailureClass | undefined;
  message: string;
  status?: number;
  retryAfterMs?: number;
  /** What the upstream's error body says it is (context-length, content-policy, …), when it said. */
  kind?: ErrorKind;
}

/**
 * Whether a failure counts against the upstream's circuit breaker. A 4xx other than 429 never does,
 * 408 included: it may be retried elsewhere, but it proves the upstream reachable.
 */
export function countsAgainstBreaker(f: AttemptFailure): boolean {
  if (f.failureClass === undefined) return false;
  return f.status === undefined || f.status === 429 || f.status < 400 || f.status >= 500;
}

export function classifyStatus(status: number): FailureClass | undefined {
  if (status === 429) return 'rate-limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server-error';
  return undefined;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ERR_TURNOUT_TIMEOUT',
]);

/** Errors thrown by the transport: timeouts are `timeout`, anything else reaching the socket is `connect-failure`. */
export function classifyError(err: unknown): FailureClass {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
  if ((err as Error | null)?.name === 'TimeoutError') return 'timeout';
  return 'connect-failure';
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class TimeoutError extends Error {
  readonly code = 'ERR_TURNOUT_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}
