// OpenAI Chat Completions request → Anthropic Messages request (POST /v1/messages body).
import { anthropicMessages } from './anthropic-messages.ts';
import { anthropicToolFields } from './anthropic-tools.ts';
import { InvalidRequest } from './errors.ts';
import { compact, isRecord, type JsonObject } from './json.ts';
import { readOpenAiMessages, systemText } from './openai-messages.ts';
import { ANTHROPIC_PARAMETER_RULES, checkParameters } from './parameter-rules.ts';
import { maxOutputTokens, optionalNumber, optionalString, stopSequences } from './request-fields.ts';

export interface AnthropicRequestOptions {
  /** The provider's model id to call. */
  model: string;
  /** max_tokens when the caller set none (Anthropic requires it): the model's maxOutputTokens. */
  maxTokensDefault?: number | undefined;
}

export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** Throws UnsupportedParameter or InvalidRequest (both TurnoutError, HTTP 400); nothing else. */
export function anthropicRequestFromOpenAi(body: unknown, options: AnthropicRequestOptions): JsonObject {
  if (!isRecord(body)) throw new InvalidRequest('body', 'must be a JSON object');
  checkParameters(body, ANTHROPIC_PARAMETER_RULES, 'Anthropic');
  const turns = readOpenAiMessages(body.messages);
  const temperature = optionalNumber(body, 'temperature');
  const topP = optionalNumber(body, 'top_p');
  const user = optionalString(body, 'user');
  return compact({
    model: options.model,
    max_tokens: maxOutputTokens(body) ?? options.maxTokensDefault ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    system: systemText(turns),
    messages: anthropicMessages(turns),
    temperature: temperature === undefined ? undefined : Math.min(Math.max(temperature, 0), 1),
    top_p: temperature === undefined ? topP : undefined,
    stop_sequences: stopSequences(body),
    stream: body.stream === true ? true : undefined,
    metadata: user === undefined ? undefined : { user_id: user },
    ...anthropicToolFields(body),
  });
}
