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

/** One matcher for a list of globs; plain names are compared without a regex. */
export function modelMatcher(globs: readonly string[]): (model: string) => boolean {
  if (globs.length === 0) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const patterns = globs.filter((g) => /[*?]/.test(g)).map(globToRegExp);
  return (model) => exact.has(model) || patterns.some((p) => p.test(model));
}
