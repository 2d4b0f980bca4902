// One error type for everything the sidecar refuses or fails at, with a stable `code` callers can
// branch on. It is mapped to the caller's dialect (OpenAI or Anthropic error JSON) only at the edge.

export const ERROR_CODES = {
  invalid_json: 400,
  invalid_request: 400,
  context_length_exceeded: 400,
  forbidden: 403,
  request_timeout: 408,
  body_too_large: 413,
  unsupported_media_type: 415,
  model_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  no_eligible_target: 503,
  not_ready: 503,
  shutting_down: 503,
  rate_limited: 429,
  budget_exceeded: 429,
  upstream_unavailable: 502,
  no_acceptable_answer: 502,
  upstream_timeout: 504,
  internal_error: 500,
  /** Nginx's 499: the caller went away before it was answered; only ever recorded, never sent. */
  caller_disconnected: 499,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** OpenAI's error `type` values; Anthropic's are derived from the status at render time. */
export type ErrorType =
  'invalid_request_error' | 'not_found_error' | 'rate_limit_error' | 'api_error' | 'service_unavailable';

export interface TurnoutErrorOptions {
  cause?: unknown;
  /** Seconds, for 429/503 answers. */
  retryAfter?: number;
  param?: string;
  headers?: Record<string, string>;
}

export class TurnoutError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: TurnoutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TurnoutError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.retryAfter = options.retryAfter;
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  get type(): ErrorType {
    if (this.status === 429) return 'rate_limit_error';
    if (this.status === 404) return 'not_found_error';
    if (this.status === 503) return 'service_unavailable';
    if (this.status >= 400 && this.status < 500) return 'invalid_request_error';
    return 'api_error';
  }
}

/** Anything thrown that is not a TurnoutError becomes an internal error whose message reveals nothing. */
export function asTurnoutError(e: unknown): TurnoutError {
  if (e instanceof TurnoutError) return e;
  return new TurnoutError('internal_error', 'internal error in the Turnout sidecar; see its log', {
    cause: e,
  });
}
