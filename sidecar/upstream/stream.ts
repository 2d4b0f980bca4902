import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { SnapshotModel } from '../../api/index.ts';
import { costUSD } from '../accounting/usage.ts';
import type { AttemptResult } from './attempt.ts';
import type { Call } from './call.ts';
import { TimeoutError } from './classify.ts';
import { StreamObserver } from './stream-observer.ts';

/**
 * Streams an upstream SSE answer to the caller. Waits for the first chunk before committing (headers
 * sent), so a stream that never starts still fails over. Once committed, a cut, stalled or broken
 * upstream ends with an in-band error event — never with a clean end that would pass for a full answer.
 */
export async function pipeStream(
  call: Call,
  body: Readable,
  headers: Record<string, string>,
  controller: AbortController,
  firstChunkTimer: NodeJS.Timeout,
  idleMs: number,
  model: SnapshotModel,
  attemptStartedAt: number,
): Promise<AttemptResult> {
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await chunks.next(); // throws before commit: the caller fails over
  clearTimeout(firstChunkTimer);
  const ttftMs = Date.now() - attemptStartedAt;
  if (first.done) {
    return {
      kind: 'failed',
      failure: { failureClass: 'server-error', message: `${headers['x-turnout-provider']}: empty stream` },
    };
  }
  const observer = new StreamObserver();
  const res = call.res;
  const recorded = call.recordAnswer ? ([] as Buffer[]) : undefined;
  const sentHeaders = { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  res.writeHead(200, sentHeaders);
  res.flushHeaders();
  const idle = setTimeout(
    () => controller.abort(new TimeoutError(`stream stalled: no chunk for ${idleMs} ms`)),
    idleMs,
  );
  let streamError: string | undefined;
  try {
    let chunk: Buffer = first.value;
    for (;;) {
      observer.feed(chunk);
      recorded?.push(chunk);
      if (!res.write(chunk)) await once(res, 'drain', { signal: call.clientSignal });
      const next = await chunks.next();
      if (next.done) break;
      idle.refresh();
      chunk = next.value;
    }
    if (!observer.done) {
      if (observer.finishReason !== undefined) {
        res.write('data: [DONE]\n\n');
        recorded?.push(Buffer.from('data: [DONE]\n\n'));
      } else streamError = 'upstream stream ended before the answer was complete';
    }
  } catch (err) {
    if (call.clientSignal.aborted)
      return { kind: 'served', status: 499, ttftMs, streamError: 'caller disconnected' };
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
    streamError = `upstream stream failed: ${reason instanceof Error ? reason.message : String(reason)}`;
  } finally {
    clearTimeout(idle);
  }
  if (streamError !== undefined) res.write(inBandError(streamError));
  res.end();
  const usage = observer.usage;
  const cost = usage && costUSD(usage, model.pricing);
  return {
    kind: 'served',
    status: 200,
    ttftMs,
    ...(usage && { usage }),
    ...(cost !== undefined && { costUSD: cost }),
    ...(streamError !== undefined && { streamError }),
    ...(recorded && streamError === undefined && { recorded: { headers: sentHeaders, chunks: recorded } }),
  };
}

/** An OpenAI-style error event: the openai SDKs raise it as an APIError instead of returning a short answer. */
function inBandError(message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'api_error', param: null, code: 'upstream_stream_error' } })}\n\n`;
}
