import { estimateTokens, nextId, type Exchange } from '../answer.ts';
import type { Dialect, ErrorSpec, Route } from './dialect.ts';
import { listingRoute } from './listing.ts';
import { chatCompletions } from './openai-chat.ts';
import { embeddings } from './openai-embeddings.ts';
import { responses } from './openai-responses.ts';

export const OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];
const CREATED = 1_700_000_000;

const modelObject = (id: string): unknown => ({ id, object: 'model', created: CREATED, owned_by: 'system' });
const models = listingRoute('models', () => ({ object: 'list', data: OPENAI_MODELS.map(modelObject) }));

// [type, code, message] as the real API sends them for each status.
const ERRORS: Record<number, [string, string | null, string]> = {
  400: ['invalid_request_error', null, 'Invalid request.'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['permission_error', null, 'You are not allowed to access this resource.'],
  404: [
    'invalid_request_error',
    'model_not_found',
    'The model does not exist or you do not have access to it.',
  ],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests. Please try again later.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
};

function errorBody({ status, message, code }: ErrorSpec): unknown {
  const [type, defaultCode, defaultMessage] = ERRORS[status] ?? [
    status >= 500 ? 'server_error' : 'invalid_request_error',
    null,
    `Request failed with status ${status}.`,
  ];
  return { error: { message: message ?? defaultMessage, type, param: null, code: code ?? defaultCode } };
}

function route(method: string, path: string): Route | undefined {
  if (method === 'POST') {
    if (path === '/v1/chat/completions') return chatCompletions;
    if (path === '/v1/embeddings') return embeddings;
    if (path === '/v1/responses') return responses;
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (path === '/v1/models') return models;
  if (path.startsWith('/v1/models/')) {
    return listingRoute('models.retrieve', modelObject, decodeURIComponent(path.slice('/v1/models/'.length)));
  }
  return undefined;
}

function contextLength(ex: Exchange): { kind: 'status'; status: number; body: unknown } {
  const tokens = Math.max(estimateTokens(ex.promptChars), 128_001);
  const message =
    `This model's maximum context length is 128000 tokens. However, your messages resulted in ${tokens} tokens. ` +
    'Please reduce the length of the messages.';
  return {
    kind: 'status',
    status: 400,
    body: {
      error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' },
    },
  };
}

export const openai: Dialect = {
  name: 'openai',
  basePath: '/v1',
  route,
  apiKey: (headers) => {
    const auth = headers.authorization;
    return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  },
  errorBody,
  replyHeaders: () => ({ 'x-request-id': `req_${nextId()}` }),
  malformedFrame: 'data: {not json\n\n',
  // Azure OpenAI's prompt filter answers 400 code content_filter (native OpenAI streams finish_reason
  // content_filter, which `{ kind: 'ok', refusal: true }` gives).
  contentFilter: () => ({
    kind: 'status',
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering OpenAI's content management policy. " +
          'Please modify your prompt and retry.',
        type: 'invalid_request_error',
        param: 'prompt',
        code: 'content_filter',
      },
    },
  }),
  contextLength,
};
