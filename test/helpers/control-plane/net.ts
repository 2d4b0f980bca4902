import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Asks the kernel for a free loopback port. The port is released before the component binds it,
 * so a collision is possible (rare); startControlPlane retries the whole start when one happens.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface TlsClient {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function loadTlsClient(caFile: string, certFile: string, keyFile: string): Promise<TlsClient> {
  const [ca, cert, key] = await Promise.all([readFile(caFile), readFile(certFile), readFile(keyFile)]);
  return { ca, cert, key };
}

/** GET returning the status code and body; network errors resolve as status 0 (not up yet). */
export function httpsGet(url: string, tls: TlsClient): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, method: 'GET', timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    req.end();
  });
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text() };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error) };
  }
}

export interface PollOptions {
  timeoutMs: number;
  what: string;
  /** Checked between attempts: a reason to give up early, e.g. "the process exited". */
  abort?: () => string | undefined;
}

/** Polls `check` until it returns true; throws with the last observed detail on timeout. */
export async function pollUntil(
  check: () => Promise<{ ok: boolean; detail: string }>,
  opts: PollOptions,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const result = await check();
    if (result.ok) return;
    const aborted = opts.abort?.();
    if (aborted !== undefined) throw new Error(`${opts.what}: ${aborted}`);
    if (Date.now() > deadline)
      throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms (last: ${result.detail})`);
    await sleep(200);
  }
}
