// The only errors the translators throw. Request translators throw UnsupportedParameter and
// InvalidRequest (code invalid_request, HTTP 400, `param` names the offending field), rendered in the
// caller's dialect like any other refusal. The Gemini response translator throws FailedAnswer for an
// answer Gemini itself reports as failed, which the sidecar treats like a broken upstream answer.
import { TurnoutError } from '../errors.ts';

/** The request uses a parameter the target provider cannot honour, and dropping it would change the answer. */
export class UnsupportedParameter extends TurnoutError {
  constructor(param: string, target: string, why: string) {
    super('invalid_request', `parameter '${param}' is not supported when routed to ${target}: ${why}`, {
      param,
    });
    this.name = 'UnsupportedParameter';
  }
}

/** The request is malformed in a way no provider would accept (e.g. `messages` is not an array). */
export class InvalidRequest extends TurnoutError {
  constructor(param: string, message: string) {
    super('invalid_request', `${param}: ${message}`, { param });
    this.name = 'InvalidRequest';
  }
}

/**
 * The upstream answered 200 but reports the answer as failed (Gemini MALFORMED_FUNCTION_CALL, OTHER, …).
 * Thrown by the JSON response translator where a stream translator writes an in-band error: the attempt
 * fails (and may fail over) instead of passing an empty answer off as a finished one.
 */
export class FailedAnswer extends TurnoutError {
  constructor(message: string) {
    super('upstream_unavailable', message);
    this.name = 'FailedAnswer';
  }
}
