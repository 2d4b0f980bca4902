// Budget keys, windows and amounts as the fleet-budget code shares them with the sidecar's BudgetLedger:
// keys are `<namespace>/<policy>/<budget>|<scope>`, windows are UTC calendar periods, amounts integer
// micro-dollars (so sums over many sidecars are exact).
import { windowBounds, type BudgetWindow } from '../../sidecar/limits/budget-window.ts';

export { windowBounds, type BudgetWindow };

export interface BudgetRef {
  namespace: string;
  policy: string;
  budget: string;
  /** "policy" or "header:<name>=<value>", as admission builds it. */
  scope: string;
}

/** Namespace, policy and budget names are DNS labels, so the first "/"s and "|" are unambiguous. */
export function parseBudgetKey(key: string): BudgetRef | undefined {
  const m = /^([a-z0-9-]{1,63})\/([a-z0-9-]{1,63})\/([a-z0-9-]{1,63})\|(.+)$/s.exec(key);
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return undefined;
  return { namespace: m[1], policy: m[2], budget: m[3], scope: m[4] };
}

/** `<namespace>/<policy>/<budget>`: the part of a budgetKey before "|". */
export const budgetPrefix = (namespace: string, policy: string, budget: string): string =>
  `${namespace}/${policy}/${budget}`;

/** One budget key in one window: the unit of aggregation. */
export const keyId = (budgetKey: string, start: number): string => `${budgetKey}\n${start}`;

export const toMicro = (usd: number): number => Math.round(usd * 1_000_000);
export const toUSD = (micro: number): number => micro / 1_000_000;

/** "2026-11-22T00:00:00Z": the window start as RoutingPolicy status shows it. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** Status amounts: at least cents, up to micro-dollars, no float noise ("12.34", "0.001234"). */
export function formatUSD(micro: number): string {
  const fixed = toUSD(Math.max(0, Math.round(micro))).toFixed(6);
  return fixed.replace(/(\.\d\d\d*?)0+$/, '$1');
}

/** Micro-dollars from a status string or number; undefined when it is not a non-negative amount. */
export function parseUSD(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
  return toMicro(n);
}

/** The window of `window` kind that starts exactly at `start`, else undefined (not a window start). */
export function windowAt(window: BudgetWindow, start: number): { start: number; end: number } | undefined {
  if (!Number.isFinite(start)) return undefined;
  const b = windowBounds(window, start);
  return b.start === start ? b : undefined;
}
