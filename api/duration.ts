// Durations use the Go/Kubernetes spelling users already write in manifests ("200ms", "1m30s", "2h").
// Hours are the largest unit on purpose: a day is not always 24h in a calendar window.

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Parses "1m30s" into milliseconds; throws on text that {@link isDuration} rejects. */
export function parseDuration(text: string): number {
  if (!isDuration(text)) {
    throw new Error(`invalid duration "${text}": use a number with a unit, like 500ms, 2s, 5m or 1h`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE)) {
    total += Number(amount) * (UNIT_MS[unit ?? 'ms'] ?? 1);
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
