import type { IncomingMessage } from 'node:http';
import { TurnoutError } from '../errors.ts';

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused before
 * any byte is read; an undeclared (chunked) body is refused as soon as it crosses the limit, so an
 * oversized upload is never buffered whole.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // drain without keeping anything, so the 413 can still be written
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): TurnoutError {
  return new TurnoutError(
    'body_too_large',
    `request body exceeds the sidecar's limit of ${limit} bytes (raise --max-body-bytes / TURNOUT_MAX_BODY_BYTES if this is expected)`,
  );
}
