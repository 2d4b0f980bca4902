// Checks on a request's JSON that V8's JSON.parse does not make, run once at the edge.
//
// Depth: JSON.parse accepts any nesting, but re-serialising or walking a 100k-deep value overflows the
// stack later, far from the cause. A single pass over the text bounds the depth up front instead.
// No JSON library we use offers a depth limit, hence this small scanner.
//
// Numbers: JSON.parse reads every number as a 64-bit float, so 1e999 becomes Infinity (which
// JSON.stringify writes as null) and 18446744073709551615 becomes 18446744073709552000. A body that is
// re-serialised (a model alias, a translated dialect) would then reach the upstream changed without
// anyone noticing; such numbers are refused instead of forwarded wrong.
import { TurnoutError } from '../errors.ts';

export const MAX_JSON_DEPTH = 128;

/** The deepest nesting of arrays/objects in JSON text, stopping early once past `limit`. */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Throws invalid_request naming the first number in a parsed body that a float cannot hold as sent:
 * an infinity (the text's number overflowed) or an integer beyond ±(2^53 − 1), where consecutive
 * integers are no longer all representable. Call it only on values within MAX_JSON_DEPTH: it recurses.
 */
export function assertExactNumbers(value: unknown): void {
  const path = inexactNumberPath(value);
  if (path === undefined) return;
  let v: unknown = value;
  for (const key of path) v = (v as Record<string | number, unknown>)[key];
  const param = path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
  const what = Number.isFinite(v)
    ? `an integer beyond ±2^53 (it reads as ${String(v)})`
    : 'a number beyond the range of a 64-bit float';
  throw new TurnoutError(
    'invalid_request',
    `${param || 'the body'}: ${what}, which Turnout cannot forward exactly; send a number within ±9007199254740991 (or a string, where the API takes one)`,
    param ? { param } : {},
  );
}

/** Keys from the root to the first inexact number, or undefined (the common case, allocating nothing). */
function inexactNumberPath(v: unknown): (string | number)[] | undefined {
  if (typeof v === 'number') return inexact(v) ? [] : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const path = inexactNumberPath(v[i]);
      if (path) return [i, ...path];
    }
    return undefined;
  }
  for (const key in v) {
    const path = inexactNumberPath((v as Record<string, unknown>)[key]);
    if (path) return [key, ...path];
  }
  return undefined;
}

/** NaN never comes out of JSON.parse; a fraction beyond 2^53 cannot (such floats are all integers). */
const inexact = (n: number): boolean => !(Math.abs(n) <= Number.MAX_SAFE_INTEGER);
