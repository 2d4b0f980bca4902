// Defensive readers for untrusted JSON. Translators run on caller and upstream bodies of any shape, so
// every field is read through these instead of casts: a wrong type reads as "absent", never as a throw.

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A finite number, or undefined (NaN and Infinity cannot be written back as JSON). */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A non-negative integer count, or 0: token counts feed billing, so garbage must not become NaN. */
export function count(value: unknown): number {
  const n = num(value);
  return n !== undefined && n > 0 ? Math.floor(n) : 0;
}

/** `table[key]` for the table's own keys only: an untrusted "constructor" must not find Object's. */
export function own<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

export function record(value: unknown): JsonObject {
  return isRecord(value) ? value : {};
}

export type Parsed = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Copies the defined entries only, so optional output fields are absent rather than `undefined`. */
export function compact<T extends JsonObject>(value: T): T {
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}
