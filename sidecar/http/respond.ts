import type { ServerResponse } from 'node:http';
import type { TurnoutError } from '../errors.ts';

/** OpenAI error JSON: { error: { message, type, param, code } }, the shape every OpenAI SDK parses. */
export function openAiErrorBody(err: TurnoutError): string {
  return JSON.stringify({
    error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code },
  });
}

export function sendError(
  res: ServerResponse,
  err: TurnoutError,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = openAiErrorBody(err);
  const headers: Record<string, string> = {
    ...extraHeaders,
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
