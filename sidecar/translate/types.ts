// The wire shapes the translators produce. Inputs are read as `unknown` (they come from callers and
// upstreams); outputs are typed so the sidecar and the tests can rely on them.
import type { Usage } from '../accounting/usage.ts';

export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAiUsageJson {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: OpenAiToolCall[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: ChatCompletionMessage;
    logprobs: null;
    finish_reason: OpenAiFinishReason;
  }[];
  usage?: OpenAiUsageJson;
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsageJson {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type AnthropicResponseBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason;
  stop_sequence: null;
  usage: AnthropicUsageJson;
}

/** One parsed server-sent event, as eventsource-parser yields it. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/** How an in-band error written by fail() is labelled in each dialect. */
export interface StreamFailure {
  /** OpenAI `code`: upstream_stream_error, or the sidecar's own code (shutting_down). */
  code: string;
  /** OpenAI `type`. */
  type: string;
  /** Anthropic's error `type` (api_error, overloaded_error, …). */
  anthropicType: string;
}

/**
 * A stateful stream translator. `push` and `end` return SSE frames ready to write ("...\n\n").
 * `finishReason` is always in OpenAI terms (stop, length, tool_calls, content_filter).
 */
export interface StreamTranslator {
  push(event: SseEvent): string[];
  /** The upstream body ended: closes the downstream stream properly, or with an in-band error. */
  end(): string[];
  /**
   * The stream failed mid-way: an in-band error frame unless already ended. By default the upstream is
   * blamed (timeout, reset: UPSTREAM_STREAM_FAILURE); `failure` says otherwise (the sidecar
   * cut it when its drain window closed).
   */
  fail(message: string, failure?: StreamFailure): string[];
  /** The upstream sent its own end marker (message_stop, [DONE], a Gemini finishReason). */
  readonly completed: boolean;
  /**
   * The answer has begun: content (text, refusal, a tool call), a finish, an end marker or an error.
   * Frames before it only open the stream (a role chunk, message_start, ping, response.created), so the
   * sidecar holds them back: a stream that opens and then stalls or errs can still fail over.
   */
  readonly started: boolean;
  readonly finishReason: OpenAiFinishReason | undefined;
  readonly usage: Usage | undefined;
  /** Events skipped because their data was not the JSON object expected. */
  readonly malformed: number;
  /** The in-band error the upstream sent, or the one written by end()/fail(). */
  readonly error: string | undefined;
}
