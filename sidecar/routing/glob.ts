// Model-name globs: `*` is any run of characters and `?` one character, `/` included, because model ids
// such as "meta-llama/Llama-3.1-70B" contain slashes (path globbers like picomatch treat `/` specially).

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A test for one glob: plain string comparisons for the common shapes, a regex only for the rest. */
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
  const re = globToRegExp(glob);
  return (m) => re.test(m);
}

/** One matcher for a list of globs; plain names are compared without a regex. */
export function modelMatcher(globs: readonly string[]): (model: string) => boolean {
  if (globs.length === 0) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const tests = globs.filter((g) => /[*?]/.test(g)).map(globTest);
  if (tests.length === 0) return (model) => exact.has(model);
  return (model) => exact.has(model) || tests.some((t) => t(model));
}
