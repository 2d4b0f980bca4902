// Revisions order snapshots for sidecars, which ignore anything older than what they run. They must
// keep increasing across restarts and leader changes without a write per change, so a revision is
// max(previous + 1, wall clock in ms, floor + 1): the clock carries order across processes, and the
// floor (the highest revision any leader published on the Lease) covers clock skew and bursts of
// more than one change per millisecond.

export class RevisionClock {
  readonly #now: () => number;
  #floor = 0;
  #highest = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The next revision after `previous` (0 for a namespace seen for the first time). */
  next(previous: number): number {
    const r = Math.max(previous + 1, this.#now(), this.#floor + 1);
    this.#highest = Math.max(this.#highest, r);
    return r;
  }

  /** Raises the floor to a revision another replica has issued (read from the Lease). */
  observe(issuedElsewhere: number): void {
    if (Number.isSafeInteger(issuedElsewhere)) this.#floor = Math.max(this.#floor, issuedElsewhere);
  }

  /** The highest revision issued or observed: what a leader publishes on the Lease. */
  get highest(): number {
    return Math.max(this.#highest, this.#floor);
  }
}
