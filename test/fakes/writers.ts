import type { Frame } from './dialects/dialect.ts';
import { isPlain, type Delivery, type Fault } from './delivery.ts';
import type { Reply } from './reply.ts';
import { SSE_HEADERS } from './sse.ts';

const JSON_TYPE = 'application/json';
const MALFORMED_JSON = Buffer.from('{not json');

/** A body exactly as given (text/plain unless `headers` names a content type). */
export function writeRaw(
  reply: Reply,
  status: number,
  body: Buffer,
  headers: Record<string, string>,
): Promise<void> {
  reply.res.writeHead(status, { 'content-type': 'text/plain', ...headers, 'content-length': body.length });
  reply.res.end(body);
  return Promise.resolve();
}

/** A JSON response; faults apply to the body bytes since there are no chunks to count. */
export async function writeJson(
  reply: Reply,
  status: number,
  body: Buffer,
  headers: Record<string, string>,
  delivery?: Delivery,
): Promise<void> {
  const { res } = reply;
  const bytes = delivery?.fault?.kind === 'malformed' ? MALFORMED_JSON : body;
  res.writeHead(status, { ...headers, 'content-type': JSON_TYPE, 'content-length': bytes.length });
  if (delivery === undefined || isPlain(delivery)) {
    res.end(bytes);
    return;
  }
  res.flushHeaders();
  if (!(await reply.pause(delivery.firstDelayMs))) return;
  const fault = delivery.fault;
  if (fault === undefined || fault.kind === 'malformed') {
    res.end(bytes);
    return;
  }
  const half = Math.floor(bytes.length / 2);
  if (!(await reply.write(bytes.subarray(0, half)))) return;
  if (!(await fire(reply, fault, ''))) return;
  res.end(bytes.subarray(half));
}

export async function writeStream(
  reply: Reply,
  frames: Frame[],
  malformedFrame: string,
  headers: Record<string, string>,
  delivery: Delivery,
): Promise<void> {
  const { res } = reply;
  res.writeHead(200, { ...headers, ...SSE_HEADERS });
  if (isPlain(delivery) && !delivery.dropEnd) {
    res.end(frames.map((frame) => frame.data).join(''));
    return;
  }
  // Headers go out at once so a client sees the stream open before any delay or fault.
  res.flushHeaders();
  if (!(await reply.pause(delivery.firstDelayMs))) return;
  if (await writeFrames(reply, frames, malformedFrame, delivery)) res.end();
}

/** False when the response ended early (a cut, an endless stall, or the client left). */
async function writeFrames(
  reply: Reply,
  frames: Frame[],
  malformed: string,
  delivery: Delivery,
): Promise<boolean> {
  const { fault } = delivery;
  const total = frames.reduce((sum, frame) => sum + (frame.kind === 'delta' ? 1 : 0), 0);
  // Past the last delta the fault fires before the closing frames, so it always fires.
  const after = fault === undefined ? Infinity : Math.min(fault.after, total);
  let deltas = 0;
  let fired = false;
  for (const frame of frames) {
    if (fault !== undefined && !fired && frame.kind !== 'head' && deltas >= after) {
      fired = true;
      if (!(await fire(reply, fault, malformed))) return false;
    }
    if (frame.kind === 'end' && delivery.dropEnd) continue;
    if (frame.kind === 'delta') {
      if (deltas > 0 && !(await reply.pause(delivery.chunkDelayMs))) return false;
      deltas += 1;
    }
    if (!(await reply.write(frame.data))) return false;
  }
  return true;
}

/** Applies a fault mid-body; true when the body should continue afterwards. */
async function fire(reply: Reply, fault: Fault, malformed: string): Promise<boolean> {
  switch (fault.kind) {
    case 'cut':
      reply.cut();
      return false;
    case 'malformed':
      return reply.write(malformed);
    case 'stall':
      if (fault.stallMs !== undefined) return reply.pause(fault.stallMs);
      await reply.untilClosed();
      return false;
    case 'error':
      // The error event ends the answer; the body then ends cleanly, as the real APIs do (or, held open,
      // it never ends: only the client can close it).
      if (!(await reply.write(fault.frame))) return false;
      if (fault.holdOpen) await reply.untilClosed();
      else reply.res.end();
      return false;
  }
}
