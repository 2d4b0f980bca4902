import type { Answer, Exchange } from '../answer.ts';
import type { DialectName, RecordedRequest, StatusStep, Step } from '../types.ts';

/**
 * One SSE event of a stream. Faults count only 'delta' frames (content or tool-argument pieces), so
 * `afterChunks` means the same in every dialect: 'head' frames (role chunk, message_start, ...) always
 * go out first, and no-done drops the 'end' frames ([DONE], message_stop, Gemini's finish chunk).
 */
export interface Frame {
  data: string;
  kind: 'head' | 'delta' | 'meta' | 'end';
}

export interface Route {
  /** Recorded as RecordedRequest.endpoint. */
  endpoint: string;
  /** Inference routes take scripted steps; listings always answer. */
  scripted: boolean;
  parse(body: Record<string, unknown>, path: string, query: string): Exchange;
  json(answer: Answer, ex: Exchange): unknown;
  /** Absent for routes that never stream. */
  frames?(answer: Answer, ex: Exchange): Frame[];
  /** The in-band error event of a stream, carrying the dialect's error JSON; with frames. */
  streamError?(errorBody: unknown): string;
}

export interface ErrorSpec {
  status: number;
  message?: string | undefined;
  code?: string | undefined;
}

export interface Dialect {
  name: DialectName;
  /** Appended to the origin to form FakeProvider.url. */
  basePath: string;
  route(method: string, path: string): Route | undefined;
  apiKey(headers: Record<string, string | string[] | undefined>, query: string): string | undefined;
  /** What the service refuses before a model sees the request (Azure: the key, api-version, deployment). */
  refuse?(request: RecordedRequest): StatusStep | undefined;
  errorBody(spec: ErrorSpec): unknown;
  /** Per-response headers a real provider sends, such as a request id. */
  replyHeaders(): Record<string, string>;
  /** A frame that is not valid JSON but that a client still sees as an event. */
  malformedFrame: string;
  contentFilter(): Step;
  contextLength(ex: Exchange): Step;
}
