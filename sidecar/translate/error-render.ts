// Neutral errors → the caller's dialect. OpenAI callers get OpenAI's own codes where one exists
// (context_length_exceeded, content_filter, rate_limit_exceeded), so code written against OpenAI keeps
// working whichever provider served the request; Anthropic callers get Anthropic's type names.
import type { ErrorKind, NeutralError } from './error-classify.ts';

export const OPENAI_ERROR_CODES: Readonly<Record<ErrorKind, string>> = {
  'context-length': 'context_length_exceeded',
  'content-policy': 'content_filter',
  'rate-limited': 'rate_limit_exceeded',
  auth: 'upstream_auth_failed',
  'invalid-request': 'invalid_request',
  server: 'upstream_error',
  other: 'upstream_error',
};

const OPENAI_TYPES: Readonly<Record<ErrorKind, string>> = {
  'context-length': 'invalid_request_error',
  'content-policy': 'invalid_request_error',
  'invalid-request': 'invalid_request_error',
  'rate-limited': 'rate_limit_error',
  auth: 'authentication_error',
  server: 'api_error',
  other: 'api_error',
};

export function openAiErrorType(kind: ErrorKind): string {
  return OPENAI_TYPES[kind];
}

export interface OpenAiErrorJson {
  error: { message: string; type: string; param: null; code: string };
}

export function openAiErrorJson(error: NeutralError): OpenAiErrorJson {
  return {
    error: {
      message: error.message,
      type: OPENAI_TYPES[error.kind],
      param: null,
      code: OPENAI_ERROR_CODES[error.kind],
    },
  };
}

/** Anthropic's type for each status it documents, with the kind that type belongs to. */
const ANTHROPIC_BY_STATUS: Readonly<Record<number, readonly [string, ErrorKind]>> = {
  401: ['authentication_error', 'auth'],
  402: ['billing_error', 'auth'],
  403: ['permission_error', 'auth'],
  404: ['not_found_error', 'invalid-request'],
  413: ['request_too_large', 'invalid-request'],
  503: ['overloaded_error', 'server'],
  504: ['timeout_error', 'server'],
  529: ['overloaded_error', 'server'],
};

const ANTHROPIC_BY_KIND: Readonly<Record<ErrorKind, string>> = {
  'context-length': 'invalid_request_error',
  'content-policy': 'invalid_request_error',
  'invalid-request': 'invalid_request_error',
  'rate-limited': 'rate_limit_error',
  auth: 'authentication_error',
  server: 'api_error',
  other: 'api_error',
};

/** Anthropic's error type: by kind, refined by the status when Anthropic has a finer name for it. */
export function anthropicErrorType(error: Pick<NeutralError, 'status' | 'kind'>): string {
  const byStatus = ANTHROPIC_BY_STATUS[error.status];
  return byStatus !== undefined && byStatus[1] === error.kind ? byStatus[0] : ANTHROPIC_BY_KIND[error.kind];
}

export interface AnthropicErrorJson {
  type: 'error';
  error: { type: string; message: string };
}

export function anthropicErrorJson(error: NeutralError): AnthropicErrorJson {
  return { type: 'error', error: { type: anthropicErrorType(error), message: error.message } };
}
