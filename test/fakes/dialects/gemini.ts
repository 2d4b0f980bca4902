import { estimateTokens, type Exchange } from '../answer.ts';
import type { Step } from '../types.ts';
import type { Dialect, ErrorSpec, Route } from './dialect.ts';
import { generateContent, streamGenerateContent } from './gemini-generate.ts';
import { listingRoute } from './listing.ts';

export const GEMINI_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro'];

const modelObject = (id: string): unknown => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  inputTokenLimit: 1_048_576,
  outputTokenLimit: 65_536,
  supportedGenerationMethods: ['generateContent', 'countTokens'],
});
const models = listingRoute('models', () => ({ models: GEMINI_MODELS.map(modelObject) }));

const STATUSES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'API key not valid. Please pass a valid API key.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission.'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  499: ['CANCELLED', 'The operation was cancelled.'],
  500: ['INTERNAL', 'An internal error has occurred.'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

function errorBody({ status, message, code }: ErrorSpec): unknown {
  const [name, defaultMessage] = STATUSES[status] ?? [
    status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION',
    `Request failed with status ${status}.`,
  ];
  return { error: { code: status, message: message ?? defaultMessage, status: code ?? name } };
}

// Both the v1beta and the v1 surface route the same way.
function route(method: string, path: string): Route | undefined {
  const rest = path.startsWith('/v1beta/')
    ? path.slice(7)
    : path.startsWith('/v1/')
      ? path.slice(3)
      : undefined;
  if (rest === undefined || !(rest === '/models' || rest.startsWith('/models/'))) return undefined;
  if (method === 'POST') {
    if (rest.endsWith(':generateContent')) return generateContent;
    if (rest.endsWith(':streamGenerateContent')) return streamGenerateContent;
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (rest === '/models') return models;
  return listingRoute('models.get', modelObject, decodeURIComponent(rest.slice('/models/'.length)));
}

function contextLength(ex: Exchange): Step {
  const tokens = Math.max(estimateTokens(ex.promptChars), 1_048_577);
  const message = `The input token count (${tokens}) exceeds the maximum number of tokens allowed (1048576).`;
  return { kind: 'status', status: 400, errorCode: 'INVALID_ARGUMENT', message };
}

function apiKey(headers: Record<string, string | string[] | undefined>, query: string): string | undefined {
  const key = headers['x-goog-api-key'];
  if (typeof key === 'string') return key;
  return query === '' ? undefined : (new URLSearchParams(query).get('key') ?? undefined);
}

export const gemini: Dialect = {
  name: 'gemini',
  basePath: '/v1beta',
  route,
  apiKey,
  errorBody,
  replyHeaders: () => ({}),
  malformedFrame: 'data: {not json\n\n',
  // A prompt blocked by the safety filter comes back 200 with promptFeedback.blockReason and no candidates.
  contentFilter: () => ({ kind: 'ok', refusal: true }),
  contextLength,
};
