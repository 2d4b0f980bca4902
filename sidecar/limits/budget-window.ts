// Budget windows are UTC calendar periods, not rolling ones, so that every sidecar of a fleet (and the
// operator's status) agrees on which window a dollar belongs to: the top of the hour, 00:00Z, or the
// first of the month at 00:00Z.

export type BudgetWindow = 'hour' | 'day' | 'month';

export interface WindowBounds {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive: the next window's start. */
  end: number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function windowBounds(window: BudgetWindow, nowMs: number): WindowBounds {
  switch (window) {
    case 'hour': {
      const start = Math.floor(nowMs / HOUR) * HOUR;
      return { start, end: start + HOUR };
    }
    case 'day': {
      // Epoch ms ignore leap seconds, so every UTC day is exactly 86 400 000 ms.
      const start = Math.floor(nowMs / DAY) * DAY;
      return { start, end: start + DAY };
    }
    case 'month': {
      const d = new Date(nowMs);
      const y = d.getUTCFullYear();
      const m = d.getUTCMonth();
      // Date.UTC rolls month 12 over into January of the next year.
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
    }
  }
}
