// The request dialects the sidecar accepts. Each validates the caller's body once, at the edge, and
// gives the canonical OpenAI Chat form routing works on, plus the caller's own body for upstreams that
// speak the caller's dialect natively.
import type { CallerDialect } from '../dialects/shaper.ts';
import { TurnoutError } from '../errors.ts';
import {
  asChatBody,
  asEmbeddingsBody,
  asResponsesBody,
  chatFeatures,
  operationFeatures,
  type ChatBody,
  type InferenceBody,
  type RequestFeatures,
} from '../routing/features.ts';
import { openAiRequestFromAnthropic, UnsupportedParameter } from '../translate/index.ts';
import { anthropicRoutingView } from './anthropic-routing-view.ts';

export type Operation = 'chat' | 'embeddings' | 'responses';

export interface InboundApi {
  /** Cache and log name of the surface, e.g. openai.chat. */
  name: string;
  caller: CallerDialect;
  operation: Operation;
  parse(value: unknown): ParsedInbound;
  features(body: InferenceBody, headers: RequestFeatures['headers']): RequestFeatures;
}

export interface ParsedInbound {
  canonical: InferenceBody;
  callerBody: Record<string, unknown>;
  /**
   * Why the request cannot be put into the canonical form (an Anthropic-only feature): only upstreams that
   * speak the caller's dialect can serve it, and `canonical` is then a view for routing, never sent.
   */
  untranslatable?: TurnoutError;
}

export const OPENAI_CHAT: InboundApi = {
  name: 'openai.chat',
  caller: 'openai',
  operation: 'chat',
  features: (body, headers) => chatFeatures(body as ChatBody, headers),
  parse(value) {
    const body = asChatBody(value);
    return { canonical: body, callerBody: body };
  },
};

export const ANTHROPIC_MESSAGES: InboundApi = {
  name: 'anthropic.messages',
  caller: 'anthropic',
  operation: 'chat',
  features: (body, headers) => chatFeatures(body as ChatBody, headers),
  parse(value) {
    const body = asAnthropicBody(value);
    try {
      return {
        canonical: asChatBody({ ...openAiRequestFromAnthropic(body), model: body.model }),
        callerBody: body,
      };
    } catch (err) {
      // Malformed requests are refused here; one that only another dialect cannot express is not.
      if (!(err instanceof UnsupportedParameter)) throw err;
      return { canonical: anthropicRoutingView(body), callerBody: body, untranslatable: err };
    }
  },
};

/** The fields of an Anthropic Messages request routing relies on; the rest is the translator's. */
function asAnthropicBody(value: unknown): Record<string, unknown> & { model: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TurnoutError('invalid_request', 'the request body must be a JSON object');
  }
  const body = value as Record<string, unknown>;
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw new TurnoutError('invalid_request', 'model: is required and must be a non-empty string', {
      param: 'model',
    });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new TurnoutError('invalid_request', 'messages: is required and must be a non-empty array', {
      param: 'messages',
    });
  }
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw new TurnoutError('invalid_request', 'max_tokens: is required and must be a positive integer', {
      param: 'max_tokens',
    });
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new TurnoutError('invalid_request', 'stream: must be true or false', { param: 'stream' });
  }
  return body as Record<string, unknown> & { model: string };
}

/** OpenAI embeddings, passed through to providers whose models declare the embeddings capability. */
export const OPENAI_EMBEDDINGS: InboundApi = {
  name: 'openai.embeddings',
  caller: 'openai',
  operation: 'embeddings',
  features: (body, headers) => operationFeatures(body, headers, 'embeddings'),
  parse(value) {
    const body = asEmbeddingsBody(value);
    return { canonical: body, callerBody: body };
  },
};

/** OpenAI Responses API, routed to providers that speak it (models with the responses capability). */
export const OPENAI_RESPONSES: InboundApi = {
  name: 'openai.responses',
  caller: 'openai',
  operation: 'responses',
  features: (body, headers) => operationFeatures(body, headers, 'responses'),
  parse(value) {
    const body = asResponsesBody(value);
    return { canonical: body, callerBody: body };
  },
};
