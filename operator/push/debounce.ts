// Trailing debounce with a ceiling: a burst of edits (kubectl apply -f dir/) becomes one push after the
// burst settles, yet a steady trickle of edits still pushes at least every `maxDelayMs`.
export class Debouncer {
  readonly #delayMs: number;
  readonly #maxDelayMs: number;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;
  #firstAt: number | undefined;

  constructor(delayMs: number, maxDelayMs: number, fire: () => void) {
    this.#delayMs = delayMs;
    this.#maxDelayMs = Math.max(delayMs, maxDelayMs);
    this.#fire = fire;
  }

  poke(): void {
    const now = performance.now();
    this.#firstAt ??= now;
    clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#delayMs, this.#firstAt + this.#maxDelayMs - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#firstAt = undefined;
      this.#fire();
    }, wait);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firstAt = undefined;
  }
}
