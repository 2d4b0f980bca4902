import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** node:util parseArgs, with unknown flags reported as a usage error rather than a stack trace. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:15400 (got "${text}")`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--listen port must be at most 65535 (got ${port})`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const [k, v, ...rest] = pair.split('=');
    if (!k || v === undefined || rest.length > 0)
      throw new UsageError(`labels must look like app=web,tier=gold (got "${text}")`);
    labels[k.trim()] = v.trim();
  }
  return labels;
}

export function parseByteSize(text: string): number {
  const m = /^(\d+)(k|m|ki|mi)?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`a size must be bytes, or a number with k/m (got "${text}")`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  return Number(m[1]) * mult;
}
