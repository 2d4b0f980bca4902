import type { IncomingMessage } from 'node:http';
import { TurnoutError } from '../errors.ts';

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused before
 * any byte is read; an undeclared (chunked) body is refused as soon as it crosses the limit, so an
 * oversized upload is never buffered whole. A compressed body is refused up front (nothing here
 * inflates it, and it would otherwise be misreported as broken UTF-8). Reading stops when `signal`
 * aborts (the caller went away, or the shutdown's drain window closed) or the caller disappears.
 */
export function readBody(req: IncomingMessage, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity')
    return Promise.reject(compressed(encoding));
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  if (signal?.aborted) return Promise.reject(cut(req, signal.reason));
  const arrived = arrivedBody(req, limit);
  if (arrived) return arrived;
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
      reject(cut(req, err));
    };
    const onAbort = () => {
      cleanup();
      req.resume(); // keep nothing more of it; the connection closes once its answer is written
      reject(cut(req, signal?.reason));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Why a body stopped arriving. A Turnout reason (the drain window closed) is kept; Node's request
 * timeout (the whole request must arrive within the server's requestTimeout) is told apart; anything
 * else — the socket closed mid-body, Node's "aborted" — is the caller going away, not a sidecar fault.
 */
function cut(req: IncomingMessage, reason: unknown): TurnoutError {
  if (reason instanceof TurnoutError) return reason;
  const socketError = (req.socket as { errored?: { code?: unknown } | null } | null)?.errored;
  if (socketError?.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new TurnoutError('request_timeout', 'the request body did not arrive in time', { cause: reason });
  return new TurnoutError('caller_disconnected', 'the caller disconnected while sending the request body', {
    cause: reason,
  });
}

/**
 * A small body usually arrives in the same packet as the headers, and the parser has already queued all
 * of it (and the end) before the request is handed over. Taking it at once saves the trip through
 * 'data'/'end' events on a later tick, which costs ~20–40 µs of a proxied call. Undefined otherwise.
 */
function arrivedBody(req: IncomingMessage, limit: number): Promise<Buffer> | undefined {
  if (!req.complete || req.readableFlowing !== null || req.readableLength > limit) return undefined;
  const body = req.read() as Buffer | null; // in paused mode: everything queued, in one Buffer
  if (req.readableLength > 0) {
    // Not everything came out in one read (cannot happen for a byte stream, but never lose bytes).
    const rest: Buffer[] = body ? [body] : [];
    for (let chunk = req.read() as Buffer | null; chunk; chunk = req.read() as Buffer | null)
      rest.push(chunk);
    return Promise.resolve(Buffer.concat(rest));
  }
  return Promise.resolve(body ?? Buffer.alloc(0));
}

function tooLarge(limit: number): TurnoutError {
  return new TurnoutError(
    'body_too_large',
    `request body exceeds the sidecar's limit of ${limit} bytes (raise --max-body-bytes / TURNOUT_MAX_BODY_BYTES if this is expected)`,
  );
}

function compressed(encoding: string): TurnoutError {
  return new TurnoutError(
    'unsupported_media_type',
    `Content-Encoding ${encoding} is not supported: send the request body uncompressed`,
  );
}
