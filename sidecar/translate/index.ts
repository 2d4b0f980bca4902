// Pure translation between the OpenAI Chat, Anthropic Messages and Gemini generateContent dialects,
// with OpenAI Chat as the canonical form. No I/O; clocks and ids come in as parameters.

// Requests
export {
  anthropicRequestFromOpenAi,
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  type AnthropicRequestOptions,
} from './anthropic-request.ts';
export { openAiRequestFromAnthropic } from './anthropic-inbound-request.ts';
export { geminiRequestFromOpenAi, type GeminiRequest } from './gemini-request.ts';
export { geminiSchema } from './gemini-schema.ts';
export { FOREIGN_THOUGHT_SIGNATURE } from './gemini-contents.ts';
export { JSON_ANSWER_TOOL } from './json-answer-tool.ts';
export { asksForJson } from './tool-options.ts';
export {
  ANTHROPIC_INBOUND_PARAMETER_RULES,
  ANTHROPIC_PARAMETER_RULES,
  GEMINI_PARAMETER_RULES,
  checkParameters,
  type ParameterAction,
  type ParameterRule,
} from './parameter-rules.ts';
export { FailedAnswer, InvalidRequest, UnsupportedParameter } from './errors.ts';

// Responses
export { openAiResponseFromAnthropic, type FromAnthropicOptions } from './anthropic-response.ts';
export { openAiResponseFromGemini, type FromGeminiOptions } from './gemini-response.ts';
export { anthropicResponseFromOpenAi } from './openai-response.ts';
export {
  finishFromAnthropic,
  finishFromGemini,
  geminiFailure,
  stopReasonFromOpenAi,
} from './finish-reasons.ts';
export { anthropicUsageJson, openAiUsageJson, usageFromAnthropic, usageFromGemini } from './usage.ts';

// Streams
export { AnthropicToOpenAiStream, type AnthropicToOpenAiOptions } from './anthropic-to-openai-stream.ts';
export { GeminiToOpenAiStream, type GeminiToOpenAiOptions } from './gemini-to-openai-stream.ts';
export { OpenAiToAnthropicStream, type OpenAiToAnthropicOptions } from './openai-to-anthropic-stream.ts';
export { sseTranslatorPipe, type SsePipe } from './sse-pipe.ts';
export {
  DONE_FRAME,
  UPSTREAM_STREAM_FAILURE,
  anthropicStreamErrorFrame,
  eventFrame,
  openAiStreamErrorFrame,
} from './sse-frames.ts';

// Errors
export {
  errorFromAnthropic,
  errorFromGemini,
  errorFromOpenAi,
  kindFromStatus,
  type ErrorKind,
  type NeutralError,
} from './error-classify.ts';
export {
  OPENAI_ERROR_CODES,
  anthropicErrorJson,
  anthropicErrorType,
  openAiErrorJson,
  openAiErrorType,
  type AnthropicErrorJson,
  type OpenAiErrorJson,
} from './error-render.ts';

export type * from './types.ts';
