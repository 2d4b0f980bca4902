// What happens to each request parameter when a request crosses dialects. One table per direction, read
// by the translators (refusals) and exported for the sidecar (dropped-parameter reporting) and the docs.
// The rule: a parameter the target cannot honour is DROPPED when it only tunes sampling or asks for
// optional extras, and REFUSED (UnsupportedParameter, HTTP 400) when dropping it would silently change
// the shape of the answer the caller gets back (n > 1 choices, audio output, server-side tools).
// Parameters not in a table are dropped: the target APIs reject unknown fields.
import { UnsupportedParameter } from './errors.ts';
import { isRecord } from './json.ts';

export type ParameterAction = 'mapped' | 'dropped' | 'refused';

export interface ParameterRule {
  readonly param: string;
  readonly action: ParameterAction;
  /** For `refused`: when the request is refused; otherwise the parameter is ignored. */
  readonly when?: string;
  readonly test?: (value: unknown) => boolean;
  readonly note: string;
}

const moreThanOne = (v: unknown): boolean => typeof v === 'number' && v > 1;
const m = (param: string, note: string): ParameterRule => ({ param, action: 'mapped', note });
const d = (param: string, note: string): ParameterRule => ({ param, action: 'dropped', note });
const r = (param: string, note: string, when?: string, test?: ParameterRule['test']): ParameterRule => ({
  param,
  action: 'refused',
  note,
  ...(when !== undefined && { when }),
  ...(test !== undefined && { test }),
});

const COMMON_REFUSED = [
  r('audio', 'audio output cannot be produced'),
  r('functions', 'legacy function calling; send `tools` instead'),
  r('function_call', 'legacy function calling; send `tool_choice` instead'),
];
const COMMON_DROPPED = [
  d('logit_bias', 'sampling only'),
  d('stream_options', 'the translator always reports usage; a usage chunk is sent when include_usage is set'),
  d('store', 'OpenAI-side storage'),
  d('metadata', 'OpenAI-side storage'),
  d('service_tier', 'OpenAI-side scheduling'),
  d('reasoning_effort', 'no equivalent mapping yet'),
  d('modalities', 'text output only'),
  d('prediction', 'OpenAI predicted outputs'),
  d('web_search_options', 'OpenAI-hosted search'),
  d('verbosity', 'OpenAI-specific'),
  d('prompt_cache_key', 'OpenAI-specific'),
  d('safety_identifier', 'OpenAI-specific'),
];

/** OpenAI Chat Completions request → Anthropic Messages. */
export const ANTHROPIC_PARAMETER_RULES: readonly ParameterRule[] = [
  m('model', 'replaced by the routed model'),
  m('messages', 'system/developer → system; tool → tool_result in a user turn; same-role turns merged'),
  m('max_completion_tokens', 'max_tokens (preferred over max_tokens)'),
  m('max_tokens', 'max_tokens; when neither is set, the model maxOutputTokens or 4096'),
  m('temperature', 'temperature, clamped to Anthropic range [0, 1]'),
  m('top_p', 'top_p; omitted when temperature is also set (recent Claude models reject both)'),
  m('stop', 'stop_sequences'),
  m('stream', 'stream'),
  m('tools', 'function tools → {name, description, input_schema}'),
  m('tool_choice', 'auto → auto, none → none, required → any, {function} → {type: tool}'),
  m('parallel_tool_calls', 'false → tool_choice.disable_parallel_tool_use'),
  m('response_format', 'json_object/json_schema → a forced answer tool (see README)'),
  m('user', 'metadata.user_id'),
  r('n', 'Anthropic returns one choice', 'n > 1', moreThanOne),
  ...COMMON_REFUSED,
  d('logprobs', 'not available; the response carries logprobs: null'),
  d('top_logprobs', 'not available'),
  d('presence_penalty', 'sampling only'),
  d('frequency_penalty', 'sampling only'),
  d('seed', 'sampling only'),
  ...COMMON_DROPPED,
];

/** OpenAI Chat Completions request → Gemini generateContent. */
export const GEMINI_PARAMETER_RULES: readonly ParameterRule[] = [
  m('model', 'in the path: models/{model}:generateContent'),
  m('messages', 'contents (user/model), systemInstruction; tool → functionResponse'),
  m('max_completion_tokens', 'generationConfig.maxOutputTokens (preferred over max_tokens)'),
  m('max_tokens', 'generationConfig.maxOutputTokens'),
  m('temperature', 'generationConfig.temperature'),
  m('top_p', 'generationConfig.topP'),
  m('stop', 'generationConfig.stopSequences'),
  m('stream', 'streamGenerateContent?alt=sse'),
  m('n', 'generationConfig.candidateCount'),
  m('presence_penalty', 'generationConfig.presencePenalty'),
  m('frequency_penalty', 'generationConfig.frequencyPenalty'),
  m('seed', 'generationConfig.seed'),
  m('tools', 'tools[0].functionDeclarations, schemas reduced to what Gemini accepts'),
  m('tool_choice', 'toolConfig.functionCallingConfig: auto → AUTO, none → NONE, required → ANY'),
  m(
    'response_format',
    'responseMimeType application/json (+ responseSchema for json_schema); with tools, Gemini 3+ only (refused before)',
  ),
  ...COMMON_REFUSED,
  d('logprobs', 'not translated back; the response carries logprobs: null'),
  d('top_logprobs', 'not translated back'),
  d('parallel_tool_calls', 'Gemini decides'),
  d('user', 'no equivalent'),
  ...COMMON_DROPPED,
];

/** Anthropic Messages request → OpenAI Chat Completions (canonical). */
export const ANTHROPIC_INBOUND_PARAMETER_RULES: readonly ParameterRule[] = [
  m('model', 'replaced by the routed model'),
  m('messages', 'tool_result → tool messages; thinking blocks dropped'),
  m('system', 'a leading system message'),
  m('max_tokens', 'max_completion_tokens'),
  m('stop_sequences', 'stop'),
  m('temperature', 'temperature'),
  m('top_p', 'top_p'),
  m('stream', 'stream, with stream_options.include_usage so usage can be reported'),
  m('tools', 'custom tools → function tools; server tools are refused'),
  m('tool_choice', 'auto → auto, any → required, tool → {function}, none → none'),
  m('metadata', 'metadata.user_id → user'),
  m('output_config', 'format json_schema → response_format json_schema; effort dropped'),
  m('output_format', 'structured-outputs beta spelling of output_config.format: the same mapping'),
  r('container', 'Anthropic-hosted code execution'),
  r('mcp_servers', 'Anthropic-hosted MCP connector'),
  d('top_k', 'sampling only'),
  d('thinking', 'no equivalent mapping yet'),
  d('service_tier', 'Anthropic-side scheduling'),
];

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Throws UnsupportedParameter for the first refused parameter, and returns the parameters that will be
 * dropped (set, but not carried over), for logs and response headers.
 */
export function checkParameters(body: unknown, rules: readonly ParameterRule[], target: string): string[] {
  if (!isRecord(body)) return [];
  const dropped: string[] = [];
  for (const [param, value] of Object.entries(body)) {
    if (!isSet(value)) continue;
    const rule = rules.find((candidate) => candidate.param === param);
    if (rule?.action === 'refused' && (rule.test === undefined || rule.test(value))) {
      throw new UnsupportedParameter(param, target, rule.note);
    }
    if (rule === undefined || rule.action === 'dropped') dropped.push(param);
  }
  return dropped;
}
