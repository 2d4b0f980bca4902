// Model-name globs: `*` is any run of characters and `?` one character, `/` included, because model ids
// such as "meta-llama/Llama-3.1-70B" contain slashes (path globbers like picomatch treat `/` specially).
// Matched without a regex: a glob with two or more `*` became a backtracking regex whose cost grew with
// the square of the name's length (a 60 KB caller-chosen name stalled the event loop for most of a second).

const STAR = 0x2a;
const QUESTION = 0x3f;

/**
 * Whether `name` matches `glob`, by the usual wildcard walk that remembers only the last `*`: when a later
 * part fails, that `*` takes one more character and the walk resumes after it. Earlier stars never need
 * to grow again (whatever they could absorb, the last one can), so the cost is at most the name's length
 * times the glob's — linear in the caller's input, since globs are short and come from the policy.
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1; // position of the last `*` seen in the glob
  let resume = 0; // where the name resumes when that `*` takes one more character
  while (n < name.length) {
    const c = g < glob.length ? glob.charCodeAt(g) : -1;
    if (c === STAR) {
      star = g++;
      resume = n;
    } else if (c === QUESTION || (c !== -1 && c === name.charCodeAt(n))) {
      g++;
      n++;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else return false;
  }
  while (g < glob.length && glob.charCodeAt(g) === STAR) g++;
  return g === glob.length;
}

/** A test for one glob: plain string comparisons for the common shapes, the wildcard walk for the rest. */
function globTest(glob: string): (model: string) => boolean {
  const stars = glob.split('*').length - 1;
  if (!glob.includes('?')) {
    if (glob === '*') return () => true;
    if (stars === 1 && glob.endsWith('*')) {
      const prefix = glob.slice(0, -1);
      return (m) => m.startsWith(prefix);
    }
    if (stars === 1 && glob.startsWith('*')) {
      const suffix = glob.slice(1);
      return (m) => m.endsWith(suffix);
    }
  }
  return (m) => globMatches(glob, m);
}

/** One matcher for a list of globs; plain names are compared as strings. */
export function modelMatcher(globs: readonly string[]): (model: string) => boolean {
  if (globs.length === 0) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const tests = globs.filter((g) => /[*?]/.test(g)).map(globTest);
  if (tests.length === 0) return (model) => exact.has(model);
  return (model) => exact.has(model) || tests.some((t) => t(model));
}
