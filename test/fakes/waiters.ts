import type { RecordedRequest } from './types.ts';

interface Waiter {
  match: (request: RecordedRequest) => boolean;
  resolve: (request: RecordedRequest) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Pending FakeProvider.waitFor calls, offered each request when it arrives and when it settles. */
export class Waiters {
  #waiting = new Set<Waiter>();

  add(match: Waiter['match'], timeoutMs: number): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiting.delete(waiter);
          reject(new Error(`no matching request within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiting.add(waiter);
    });
  }

  offer(request: RecordedRequest): void {
    if (this.#waiting.size === 0) return;
    for (const waiter of this.#waiting) {
      if (!waiter.match(request)) continue;
      clearTimeout(waiter.timer);
      this.#waiting.delete(waiter);
      waiter.resolve(request);
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.#waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiting.clear();
  }
}
