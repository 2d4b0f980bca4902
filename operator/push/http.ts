// Small HTTP helpers for the push server: bounded body reads, JSON answers, strict method checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PushError } from './errors.ts';

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new PushError(413, 'too_large', `a request body here is at most ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size <= limit) return;
      // Stop buffering; the answer carries "connection: close" so the rest is never read.
      req.off('data', onData);
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

export function method(req: IncomingMessage, expected: string): void {
  if (req.method !== expected)
    throw new PushError(405, 'method_not_allowed', `use ${expected} for ${req.url}`);
}

export function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v?.trim();
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    // An unread request body (refused before reading) must not be parsed as the next request.
    ...(status >= 400 && { connection: 'close' }),
  });
  res.end(JSON.stringify(body));
}
