// One-line JSON logs. Fields are chosen by call sites; object contents (Secrets above all) are never
// passed here, only names, namespaces and error messages.

export interface Logger {
  info: (msg: string, fields?: Record<string, unknown>) => void;
  warn: (msg: string, fields?: Record<string, unknown>) => void;
  error: (msg: string, fields?: Record<string, unknown>) => void;
}

export function jsonLogger(component: string, write: (line: string) => void = console.error): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }));
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** An error's message without its stack or response body (a body could echo a request). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code =
      (err as { code?: unknown; statusCode?: unknown }).statusCode ?? (err as { code?: unknown }).code;
    // DOMExceptions carry small legacy numeric codes: only HTTP statuses are worth printing.
    const status = typeof code === 'number' && code >= 100 ? ` (HTTP ${code})` : '';
    return `${err.name}: ${err.message.split('\n')[0] ?? ''}${status}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}

/** The HTTP status an error or a watch ERROR event carries, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  if (err == null || typeof err !== 'object') return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  const code = e.statusCode ?? e.code;
  // DOMExceptions carry small legacy numeric codes: only HTTP statuses count.
  return typeof code === 'number' && code >= 100 ? code : undefined;
}
