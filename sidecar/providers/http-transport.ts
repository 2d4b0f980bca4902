import { Pool, type Dispatcher } from 'undici';
import type { SnapshotProvider } from '../../api/index.ts';
import type { PreparedRequest, Transport, UpstreamResponse } from './types.ts';
import { DispatchedBody } from './upstream-body.ts';

/**
 * An undici keep-alive pool to one provider origin. Header and body timeouts are left to the caller's
 * signal: an attempt knows which timer governs when — the route's firstToken until the first answer
 * token, the provider's idle between chunks after it, total for a JSON answer — and an undici body
 * timeout would also run between the headers and the first byte, silently capping firstToken at idle.
 * The pool only bounds connecting and idling.
 */
export class HttpTransport implements Transport {
  readonly #pool: Pool;

  constructor(provider: SnapshotProvider) {
    if (!provider.endpoint) throw new Error(`provider ${provider.name} has no endpoint`);
    this.#pool = new Pool(new URL(provider.endpoint).origin, {
      connect: { timeout: provider.timeouts.connectMs },
      connections: provider.limits.maxConcurrent ?? null,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  send(request: PreparedRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const handler = new ResponseHandler(signal, resolve, reject);
      this.#pool.dispatch(
        {
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
        },
        handler,
      );
    });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Transports are shared across snapshots while a provider's connection settings stay the same. */
export function transportKey(provider: SnapshotProvider): string {
  return JSON.stringify([
    provider.type,
    provider.endpoint,
    provider.timeouts,
    provider.limits.maxConcurrent,
    provider.mock,
  ]);
}

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

/**
 * One upstream exchange through undici's dispatch API: settles send() when the status line and headers
 * arrive, then feeds the body chunk by chunk. The caller's signal aborts it at any stage.
 */
class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSignal;
  #resolve: ((res: UpstreamResponse) => void) | undefined;
  readonly #reject: (err: unknown) => void;
  #controller: DispatchController | undefined;
  #body: DispatchedBody | undefined;

  constructor(signal: AbortSignal, resolve: (res: UpstreamResponse) => void, reject: (err: unknown) => void) {
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  readonly #onAbort = () => {
    // Before the request reached a connection there is no controller yet: onRequestStart aborts it.
    this.#controller?.abort(this.#signal.reason as Error);
  };

  onRequestStart(controller: DispatchController): void {
    this.#controller = controller;
    if (this.#signal.aborted) controller.abort(this.#signal.reason as Error);
  }

  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx informational: the real answer follows
    const resolve = this.#resolve;
    if (!resolve) return;
    this.#resolve = undefined;
    this.#body = new DispatchedBody(controller);
    resolve({ status: statusCode, headers, body: this.#body });
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    this.#body?.push(chunk);
  }

  onResponseEnd(): void {
    this.#done();
    this.#body?.end();
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    this.#done();
    const reason: unknown = this.#signal.aborted ? this.#signal.reason : error;
    if (this.#resolve) {
      this.#resolve = undefined;
      this.#reject(reason);
    } else this.#body?.fail(reason);
  }

  #done(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
  }
}
