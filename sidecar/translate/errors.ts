// The only errors the translators throw. Both are TurnoutErrors (code invalid_request, HTTP 400) so the
// edge renders them in the caller's dialect like any other refusal; `param` names the offending field.
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
