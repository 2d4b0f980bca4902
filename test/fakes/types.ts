import type { IncomingHttpHeaders } from 'node:http';

export type DialectName = 'openai' | 'anthropic' | 'gemini' | 'azure-openai';

/** Token counts in neutral names; each dialect maps them to its own usage fields. */
export interface UsageOverride {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
}

export interface ToolCallSpec {
  name: string;
  /** An object, or a JSON string as OpenAI carries it; both dialect forms are derived from it. */
  arguments: Record<string, unknown> | string;
}

/** Shapes the answer; every step that produces a body accepts these. */
export interface AnswerFields {
  content?: string;
  /** Number of content deltas a stream is split into (default 4). */
  chunks?: number;
  /** Pause between deltas of a stream. */
  chunkDelayMs?: number;
  /** Emitted only when the request declares tools, as a real model would. */
  toolCall?: ToolCallSpec;
  usage?: UsageOverride;
  /** Dialect-native value, e.g. 'length', 'max_tokens', 'MAX_TOKENS'. */
  finishReason?: string;
  /** The model named in the answer; the requested model by default. */
  model?: string;
  /** Answer as the dialect's 200-refusal (finish_reason content_filter, stop_reason refusal, blockReason). */
  refusal?: boolean;
}

interface Delay {
  /** Wait before the response headers. */
  delayMs?: number;
}

export interface OkStep extends AnswerFields, Delay {
  kind: 'ok';
}

export interface StatusStep extends Delay {
  kind: 'status';
  status: number;
  retryAfter?: string;
  /** Sent (as JSON) instead of the dialect's error JSON. */
  body?: unknown;
  /**
   * Sent as these exact bytes instead of any JSON: a proxy's HTML page, or JSON written by hand (with
   * \u escapes). Content type text/plain unless `headers` says otherwise.
   */
  raw?: string;
  /** OpenAI `code`, Anthropic `error.type`, Gemini `status`. */
  errorCode?: string;
  message?: string;
  headers?: Record<string, string>;
}

export interface ResetStep extends Delay {
  kind: 'reset';
}

export interface HangStep {
  kind: 'hang';
}

export interface SlowFirstTokenStep extends AnswerFields {
  kind: 'slow-first-token';
  delayMs: number;
}

export interface CutStreamStep extends AnswerFields, Delay {
  kind: 'cut-stream';
  afterChunks: number;
}

export interface StallStep extends AnswerFields, Delay {
  kind: 'stall';
  afterChunks: number;
  /** Resume the stream after this long; silent until the client or close() ends it when absent. */
  stallMs?: number;
}

export interface MalformedChunkStep extends AnswerFields, Delay {
  kind: 'malformed-chunk';
  afterChunks: number;
}

/**
 * A stream that breaks in-band, as a real API does under load (Anthropic's overloaded_error after
 * message_start): the opening frames and `afterChunks` deltas, then the dialect's error event built from
 * its error JSON for `status`, then a clean end of the body. A non-stream request gets `status` instead.
 */
export interface StreamErrorStep extends AnswerFields, Delay {
  kind: 'stream-error';
  afterChunks: number;
  /** Picks the dialect's error type, as for a status step (default 500; Anthropic 529 = overloaded_error). */
  status?: number;
  errorCode?: string;
  message?: string;
  /** The error event as these exact bytes (a whole SSE event, blank line included) instead of the dialect's. */
  frame?: string;
  /** After the error event, send nothing more but keep the connection open until the client leaves. */
  holdOpen?: boolean;
}

export interface NoDoneStep extends AnswerFields, Delay {
  kind: 'no-done';
}

export interface ContentFilterStep extends Delay {
  kind: 'content-filter';
}

export interface ContextLengthStep extends Delay {
  kind: 'context-length';
}

export type Step =
  | OkStep
  | StatusStep
  | ResetStep
  | HangStep
  | SlowFirstTokenStep
  | CutStreamStep
  | StallStep
  | MalformedChunkStep
  | StreamErrorStep
  | NoDoneStep
  | ContentFilterStep
  | ContextLengthStep;

export type StepKind = Step['kind'];

export interface RecordedRequest {
  /** 1-based arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string including '?', or ''. */
  query: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when empty or not JSON. */
  body: unknown;
  bodyBytes: number;
  /** Date.now() when the body had been read. */
  receivedAt: number;
  /** e.g. 'chat.completions', 'messages', 'generateContent'; undefined for unknown routes. */
  endpoint: string | undefined;
  model: string | undefined;
  stream: boolean;
  /** The credential the dialect reads (Bearer token, x-api-key, api-key, x-goog-api-key or ?key=). */
  apiKey: string | undefined;
  /** The step that answered it. */
  step: StepKind | undefined;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** The response was written completely. */
  completed: boolean;
}

export interface FakeProviderOptions {
  dialect: DialectName;
  /** Keep RecordedRequests (default true); benchmarks turn it off so memory stays flat. */
  record?: boolean;
  /** Answer 401 in the dialect's format when the request carries no credential. */
  requireApiKey?: boolean;
  /** azure-openai: the deployments the resource has (default AZURE_DEPLOYMENTS); others get 404. */
  deployments?: readonly string[];
}

export interface FakeProvider {
  readonly dialect: DialectName;
  /** Base URL a client is configured with (openai …/v1, anthropic the origin, gemini …/v1beta, azure-openai …/openai). */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Requests received since start or reset(), recorded or not. */
  readonly count: number;
  /** Steps still queued. */
  readonly pending: number;
  /** Appends steps to the queue; each inference request takes the next one. */
  script(steps: readonly Step[]): void;
  onNext(step: Step): void;
  /** The step used once the queue is empty ({ kind: 'ok' } initially). */
  setDefault(step: Step): void;
  /** Extra latency before every response, for benchmarks. */
  delayAll(ms: number): void;
  /** Clears requests, count and queue; restores the default step and delayAll(0). */
  reset(): void;
  /** Resolves with the first recorded request (past or future) matching; rejects after timeoutMs. */
  waitFor(match: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Stops listening and destroys every open socket, hung ones included. */
  close(): Promise<void>;
}
