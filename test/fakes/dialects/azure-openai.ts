// An Azure OpenAI resource: the OpenAI wire format under /openai, authenticated by the api-key header,
// addressed by deployment name. Like the real service it refuses, before looking at the request, a
// missing key (401), a path it does not serve or a dated API without api-version (404), a dated
// api-version on the v1 API (400), and a deployment the resource does not have (404 DeploymentNotFound).
import { randomUUID } from 'node:crypto';
import { isRecord } from '../request-text.ts';
import type { RecordedRequest, StatusStep } from '../types.ts';
import type { Dialect, ErrorSpec, Route } from './dialect.ts';
import { openai } from './openai.ts';
import { chatCompletions } from './openai-chat.ts';
import { embeddings } from './openai-embeddings.ts';
import { responses } from './openai-responses.ts';

/** The deployments a fake resource has unless the test names its own. */
export const AZURE_DEPLOYMENTS = ['gpt-4o-prod', 'gpt-4o-mini-prod', 'embedding-prod'];

const BASE = '/openai';
// The dated APIs: /openai/deployments/{deployment}/{operation}?api-version=YYYY-MM-DD[-preview].
const DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;
// The v1 API: OpenAI's paths under /openai/v1, the deployment in the body's `model`.
const V1_ROUTES: Readonly<Record<string, Route>> = {
  '/openai/v1/responses': responses,
  '/openai/v1/chat/completions': chatCompletions,
  '/openai/v1/embeddings': embeddings,
};
const DEPLOYMENT_ROUTES: Readonly<Record<string, Route>> = {
  'chat/completions': chatCompletions,
  embeddings,
};
// The v1 API takes no dated api-version; `preview` opts into preview features.
const V1_API_VERSIONS = new Set([null, 'preview']);

// Azure's own error bodies ({code, message}) for what its gateway answers, not the model.
const MESSAGES: Record<number, [string, string]> = {
  400: ['BadRequest', 'Bad request.'],
  401: [
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key ' +
      'for an active subscription and use a correct regional API endpoint for your resource.',
  ],
  404: ['404', 'Resource not found'],
  429: [
    '429',
    'Requests have exceeded the token rate limit of your current pricing tier. Please retry after 1 second.',
  ],
  500: ['InternalServerError', 'The server had an error while processing your request.'],
  503: ['ServiceUnavailable', 'The service is temporarily unable to process your request. Try again later.'],
};

function errorBody({ status, message, code }: ErrorSpec): unknown {
  const [defaultCode, defaultMessage] = MESSAGES[status] ?? [String(status), `Request failed (${status}).`];
  return { error: { code: code ?? defaultCode, message: message ?? defaultMessage } };
}

function route(method: string, path: string): Route | undefined {
  if (method !== 'POST') return undefined;
  const v1 = V1_ROUTES[path];
  if (v1 !== undefined) return v1;
  const operation = DEPLOYMENT_PATH.exec(path)?.[2];
  return operation === undefined ? undefined : DEPLOYMENT_ROUTES[operation];
}

const status = (code: number, errorCode?: string, message?: string): StatusStep => ({
  kind: 'status',
  status: code,
  ...(errorCode !== undefined && { errorCode }),
  ...(message !== undefined && { message }),
});

/** What the resource refuses before a model sees the request. */
function refusal(deployments: ReadonlySet<string>, request: RecordedRequest): StatusStep | undefined {
  if (request.apiKey === undefined) return status(401);
  const version = new URLSearchParams(request.query).get('api-version');
  const dated = DEPLOYMENT_PATH.exec(request.path);
  let deployment: unknown;
  if (dated !== null) {
    if (version === null) return status(404);
    deployment = decodeURIComponent(dated[1] ?? '');
  } else if (V1_ROUTES[request.path] !== undefined) {
    if (!V1_API_VERSIONS.has(version)) return status(400, 'BadRequest', 'API version not supported');
    deployment = isRecord(request.body) ? request.body.model : undefined;
  } else {
    return undefined; // an unknown path: the server's 404
  }
  if (typeof deployment === 'string' && deployments.has(deployment)) return undefined;
  return status(
    404,
    'DeploymentNotFound',
    'The API deployment for this resource does not exist. If you created the deployment within the last ' +
      '5 minutes, please wait a moment and try again.',
  );
}

/** Azure's prompt filter: 400 code content_filter, with the category that fired in innererror. */
function contentFilter(): StatusStep {
  return {
    kind: 'status',
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. " +
          'Please modify your prompt and retry.',
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: {
            hate: { filtered: false, severity: 'safe' },
            self_harm: { filtered: false, severity: 'safe' },
            sexual: { filtered: false, severity: 'safe' },
            violence: { filtered: true, severity: 'medium' },
          },
        },
      },
    },
  };
}

/** An Azure OpenAI resource serving `deployments`. */
export function azureOpenAi(deployments: readonly string[]): Dialect {
  const known = new Set(deployments);
  return {
    name: 'azure-openai',
    basePath: BASE,
    route,
    // Only the api-key header, Azure's header for keys: an Authorization header is not read as one.
    apiKey: (headers) => (typeof headers['api-key'] === 'string' ? headers['api-key'] : undefined),
    refuse: (request) => refusal(known, request),
    errorBody,
    replyHeaders: () => ({ 'apim-request-id': randomUUID(), 'x-ms-region': 'Sweden Central' }),
    malformedFrame: openai.malformedFrame,
    contentFilter,
    contextLength: (ex) => openai.contextLength(ex),
  };
}
