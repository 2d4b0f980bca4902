// Provider error bodies → one neutral error. `kind` is what failover and the caller's error code
// depend on; `providerCode` keeps the provider's own code for logs. Bodies may be raw text, parsed JSON
// or garbage: classification falls back to the HTTP status and never throws.
import { asArray, isRecord, own, parseJson, record, str, type JsonObject } from './json.ts';

export type ErrorKind =
  'context-length' | 'content-policy' | 'rate-limited' | 'auth' | 'invalid-request' | 'server' | 'other';

export interface NeutralError {
  status: number;
  message: string;
  kind: ErrorKind;
  providerCode?: string;
}

export function kindFromStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limited';
  if (status === 400 || status === 404 || status === 413 || status === 422) return 'invalid-request';
  if (status >= 500) return 'server';
  return 'other';
}

function bodyObject(body: unknown): { object: JsonObject; text: string | undefined } {
  const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : undefined;
  const parsed = text === undefined ? { ok: true as const, value: body } : parseJson(text);
  // Gemini's non-SSE stream format wraps everything, errors included, in a JSON array.
  const value: unknown = parsed.ok
    ? Array.isArray(parsed.value)
      ? asArray(parsed.value)[0]
      : parsed.value
    : undefined;
  return { object: record(value), text };
}

/** Characters of a body without an error message kept in the message: enough to recognise the page. */
const EXCERPT_CHARS = 200;

/** The start of a body that is not the provider's error JSON (an HTML page from a proxy), on one line. */
function excerpt(text: string): string {
  const flat = text
    .slice(0, EXCERPT_CHARS * 4)
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function neutral(
  status: number,
  kind: ErrorKind,
  message: string | undefined,
  text: string | undefined,
  code?: string,
): NeutralError {
  const shown = text === undefined ? '' : excerpt(text);
  const fallback = `upstream answered HTTP ${status}${shown === '' ? '' : `: ${shown}`}`;
  return { status, kind, message: message || fallback, ...(code !== undefined && { providerCode: code }) };
}

const OPENAI_CONTEXT = /context[_ ]length|maximum context|context window|reduce the length of the messages/i;

export function errorFromOpenAi(status: number, body: unknown): NeutralError {
  const { object, text } = bodyObject(body);
  const err = record(object.error);
  const message = str(err.message) ?? (typeof object.error === 'string' ? object.error : undefined);
  const code = str(err.code) ?? str(err.type);
  const inner = str(record(err.innererror).code);
  let kind = kindFromStatus(status);
  if (
    code === 'context_length_exceeded' ||
    (kind === 'invalid-request' && OPENAI_CONTEXT.test(message ?? ''))
  ) {
    kind = 'context-length';
  } else if (
    code === 'content_filter' ||
    code === 'content_policy_violation' ||
    inner === 'ResponsibleAIPolicyViolation'
  ) {
    kind = 'content-policy';
  } else if (code === 'invalid_api_key') kind = 'auth';
  else if (code === 'rate_limit_exceeded') kind = 'rate-limited';
  else if (code === 'server_error') kind = 'server';
  return neutral(status, kind, message, text, code);
}

const ANTHROPIC_KINDS: Readonly<Record<string, ErrorKind>> = {
  invalid_request_error: 'invalid-request',
  not_found_error: 'invalid-request',
  request_too_large: 'invalid-request',
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'auth',
  rate_limit_error: 'rate-limited',
  api_error: 'server',
  overloaded_error: 'server',
  timeout_error: 'server',
};

export function errorFromAnthropic(status: number, body: unknown): NeutralError {
  const { object, text } = bodyObject(body);
  const err = record(object.error);
  const type = str(err.type);
  const message = str(err.message);
  let kind = own(ANTHROPIC_KINDS, type) ?? kindFromStatus(status);
  if (
    kind === 'invalid-request' &&
    /prompt is too long|context window|exceeds? the (maximum )?context/i.test(message ?? '')
  ) {
    kind = 'context-length';
  } else if (/content filtering policy|usage polic/i.test(message ?? '')) kind = 'content-policy';
  return neutral(status, kind, message, text, type);
}

const GEMINI_KINDS: Readonly<Record<string, ErrorKind>> = {
  INVALID_ARGUMENT: 'invalid-request',
  NOT_FOUND: 'invalid-request',
  OUT_OF_RANGE: 'invalid-request',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  RESOURCE_EXHAUSTED: 'rate-limited',
  INTERNAL: 'server',
  UNAVAILABLE: 'server',
  DEADLINE_EXCEEDED: 'server',
  FAILED_PRECONDITION: 'other',
};

const GEMINI_CONTEXT =
  /input token count|exceeds the maximum number of tokens|token count .*exceeds|too many tokens/i;

export function errorFromGemini(status: number, body: unknown): NeutralError {
  const { object, text } = bodyObject(body);
  const err = record(object.error);
  const code = str(err.status);
  const message = str(err.message);
  const reasons = asArray(err.details).map((d) => (isRecord(d) ? str(d.reason) : undefined));
  let kind =
    own(GEMINI_KINDS, code) ?? kindFromStatus(status || (typeof err.code === 'number' ? err.code : 0));
  if (kind === 'invalid-request' && GEMINI_CONTEXT.test(message ?? '')) kind = 'context-length';
  else if (reasons.includes('API_KEY_INVALID') || /API key not valid/i.test(message ?? '')) kind = 'auth';
  return neutral(status, kind, message, text, code);
}
