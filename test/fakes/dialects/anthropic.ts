import { estimateTokens, nextId, type Exchange } from '../answer.ts';
import type { Step } from '../types.ts';
import { messages } from './anthropic-messages.ts';
import type { Dialect, ErrorSpec, Route } from './dialect.ts';
import { listingRoute } from './listing.ts';

export const ANTHROPIC_MODELS = ['claude-sonnet-4-6', 'claude-haiku-4-5'];

const modelObject = (id: string): unknown => ({
  type: 'model',
  id,
  display_name: id,
  created_at: '2025-01-01T00:00:00Z',
});
const models = listingRoute('models', () => ({
  data: ANTHROPIC_MODELS.map(modelObject),
  has_more: false,
  first_id: ANTHROPIC_MODELS[0],
  last_id: ANTHROPIC_MODELS.at(-1),
}));

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of requests has exceeded your rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out.'],
  529: ['overloaded_error', 'Overloaded'],
};

function errorBody({ status, message, code }: ErrorSpec): unknown {
  const [type, defaultMessage] = ERROR_TYPES[status] ?? [
    status >= 500 ? 'api_error' : 'invalid_request_error',
    `Request failed with status ${status}.`,
  ];
  return {
    type: 'error',
    error: { type: code ?? type, message: message ?? defaultMessage },
    request_id: `req_${nextId()}`,
  };
}

function route(method: string, path: string): Route | undefined {
  if (method === 'POST') return path === '/v1/messages' ? messages : undefined;
  if (method !== 'GET') return undefined;
  if (path === '/v1/models') return models;
  if (path.startsWith('/v1/models/')) {
    return listingRoute('models.retrieve', modelObject, decodeURIComponent(path.slice('/v1/models/'.length)));
  }
  return undefined;
}

function contextLength(ex: Exchange): Step {
  const tokens = Math.max(estimateTokens(ex.promptChars), 200_001);
  const message = `prompt is too long: ${tokens} tokens > 200000 maximum`;
  return { kind: 'status', status: 400, errorCode: 'invalid_request_error', message };
}

export const anthropic: Dialect = {
  name: 'anthropic',
  basePath: '',
  route,
  apiKey: (headers) => {
    const key = headers['x-api-key'];
    if (typeof key === 'string') return key;
    const auth = headers.authorization;
    return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  },
  errorBody,
  replyHeaders: () => ({ 'request-id': `req_${nextId()}` }),
  // Without an event line the SDK skips a data line silently; named, it must parse it and fail.
  malformedFrame: 'event: content_block_delta\ndata: {not json\n\n',
  // Claude answers a policy violation with a 200 whose stop_reason is "refusal".
  contentFilter: () => ({ kind: 'ok', refusal: true }),
  contextLength,
};
