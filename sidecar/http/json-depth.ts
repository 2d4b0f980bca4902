// V8's JSON.parse accepts any nesting, but re-serialising or walking a 100k-deep value overflows the
// stack later, far from the cause. A single pass over the text bounds the depth up front instead.
// No JSON library we use offers a depth limit, hence this small scanner.

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
