// A call refused before it was routed — bad JSON, an unknown or over-long model name, no snapshot yet,
// shutting down, a body too large, a web page's request — is still an answered call: it is counted in
// /metrics, written to the decision log and (when traced) given a span, like a routed one. Its record is
// a Decision with no policy, route or attempts (route ""), so every consumer of decisions takes it as is.
import type { Operation } from '../http/inbound.ts';
import type { Decision } from '../upstream/call.ts';
import type { SecretRedactor } from './redact.ts';

/**
 * The longest error message a refusal's record keeps. Refusal messages quote what the caller sent (a
 * model name, a Host header, a JSON parser's view of the body): the record must stay one short line
 * whatever the caller sent, and a secret pasted into it must not survive whole.
 */
export const MAX_REFUSAL_MESSAGE_CHARS = 300;

export interface Refusal {
  api: string;
  operation: Operation;
  status: number;
  code: string;
  message: string;
  /** The snapshot served when the call was refused, if any. */
  snapshot: string | undefined;
  /** Time spent before refusing, when it was measured (tracing on); 0 otherwise. */
  latencyMs: number;
  /** When it was refused (Date.now()): the record is built a moment later (telemetry/after-call.ts). */
  refusedAt: number;
}

/** Whether a decision is a refusal's (see {@link refusalDecision}): a routed call always has a route. */
export const isRefusal = (d: Decision): boolean => d.route === '';

/** The decision record of a refused call; the message is redacted and capped here, once. */
export function refusalDecision(r: Refusal, redactor: SecretRedactor | undefined): Decision {
  const message = redactor ? redactor.redact(r.message) : r.message;
  return {
    time: new Date(r.refusedAt - r.latencyMs).toISOString(),
    snapshot: r.snapshot ?? '',
    policy: '',
    operation: r.operation,
    api: r.api,
    route: '',
    strategy: '',
    requestedModel: '',
    stream: false,
    status: r.status,
    attempts: [],
    skipped: [],
    latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    errorCode: r.code,
    errorMessage: capText(message, MAX_REFUSAL_MESSAGE_CHARS),
  };
}

/** `text` cut to `max` characters, saying how much was left out. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never half of a surrogate pair: the cut text must stay valid UTF-16 for the JSON log line.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}
