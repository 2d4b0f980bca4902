// Every refusal the push server gives has an HTTP status and a stable code; messages say what to do.
export class PushError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PushError';
    this.status = status;
    this.code = code;
  }
}

export function asPushError(e: unknown): PushError {
  if (e instanceof PushError) return e;
  return new PushError(500, 'internal_error', 'internal error in the push server', { cause: e });
}
