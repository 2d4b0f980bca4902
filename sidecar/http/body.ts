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
  const queued = queuedBody(req, declared, limit);
  if (queued) return Promise.resolve(queued);
  if (req.readableFlowing !== null) return bodyByEvents(req, limit, signal);
  // Called from the request handler, as the sidecar does, the body is not there yet: Node's parser hands
  // over the request at its headers and pushes a body that came in the same packet only once the handler
  // has returned, before the next microtask. Taken one microtask later, it skips the 'data' and 'end'
  // events and the ticks between them: ~45 µs of a cold proxied call (README, Benchmarks).
  return Promise.resolve().then(() => queuedBody(req, declared, limit) ?? bodyByEvents(req, limit, signal));
}

/** Reads the body through the stream's events, for one that is still arriving. */
function bodyByEvents(req: IncomingMessage, limit: number, signal?: AbortSignal): Promise<Buffer> {
  if (signal?.aborted) return Promise.reject(cut(req, signal.reason));
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
 * The whole body, when the parser has queued all of it: the message is complete, or as many bytes as
 * Content-Length declared are there (its end is signalled a moment later). Read in paused mode, in one
 * go; the request is then resumed so that its end still arrives and Node finishes it as usual.
 * Undefined otherwise, and for a body that is still to be read to its limit through events.
 */
function queuedBody(req: IncomingMessage, declared: number, limit: number): Buffer | undefined {
  if (req.readableFlowing !== null || req.readableLength > limit) return undefined;
  if (!req.complete && !(declared > 0 && req.readableLength === declared)) return undefined;
  const chunks: Buffer[] = [];
  for (let chunk = req.read() as Buffer | null; chunk; chunk = req.read() as Buffer | null)
    chunks.push(chunk);
  req.resume();
  // In paused mode read() gives everything queued at once; the loop only makes sure no byte is left.
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
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
