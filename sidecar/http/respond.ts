import type { ServerResponse } from 'node:http';
import type { TurnoutError } from '../errors.ts';

export type ErrorDialect = 'openai' | 'anthropic';

/** OpenAI error JSON: { error: { message, type, param, code } }, the shape every OpenAI SDK parses. */
export function openAiErrorBody(err: TurnoutError): string {
  return JSON.stringify({
    error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code },
  });
}

/** Anthropic error JSON: { type: "error", error: { type, message } }, with Anthropic's type names. */
export function anthropicErrorBody(err: TurnoutError): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicType(err.status), message: err.message } });
}

function anthropicType(status: number): string {
  if (status === 400 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404 || status === 405) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  return 'api_error';
}

/** Writes a Turnout error in the caller's dialect; the stable code also goes in x-turnout-error-code. */
export function sendError(res: ServerResponse, err: TurnoutError, dialect: ErrorDialect = 'openai'): void {
  if (res.destroyed) return; // the caller is gone (or Node already answered a request timeout)
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = dialect === 'anthropic' ? anthropicErrorBody(err) : openAiErrorBody(err);
  const headers: Record<string, string> = {
    ...err.headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-turnout-error-code': err.code,
  };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  res.writeHead(err.status, headers);
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
