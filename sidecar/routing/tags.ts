/** Parses `x-turnout-tags: k=v,k=v` (whitespace tolerated; later keys win; malformed pairs ignored). */
export function parseTags(header: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!header) return tags;
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key) tags[key] = pair.slice(eq + 1).trim();
  }
  return tags;
}
