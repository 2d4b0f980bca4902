// One budget's counters for its current window, and the reservation a call holds against them.
import type { BudgetWindow } from './budget-window.ts';

export interface BudgetReservation {
  /** The call was billed: move it from reserved to used. Actual may exceed the estimate; first of settle/release wins. */
  settle(actualUSD: number): void;
  /** The call was not billed (failed, never sent): drop the reservation. */
  release(): void;
}

export interface Entry {
  window: BudgetWindow;
  start: number;
  end: number;
  used: number;
  remote: number;
  /** In-flight reservations. Carried over a window rollover: those calls are still running. */
  reserved: number;
}

export const toMicro = (usd: number): number => Math.round(usd * 1_000_000);
export const toUSD = (micro: number): number => micro / 1_000_000;

export class Reservation implements BudgetReservation {
  #entry: Entry;
  #micro: number;
  #done = false;

  constructor(entry: Entry, micro: number) {
    this.#entry = entry;
    this.#micro = micro;
  }

  settle(actualUSD: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#entry.reserved -= this.#micro;
    // Unknown cost (no pricing): the estimate is the best figure we have.
    this.#entry.used += Number.isFinite(actualUSD) ? Math.max(0, toMicro(actualUSD)) : this.#micro;
  }

  release(): void {
    if (this.#done) return;
    this.#done = true;
    this.#entry.reserved -= this.#micro;
  }
}
