import { once } from 'node:events';
import type { UpstreamBody } from '../providers/upstream-body.ts';
import type { SnapshotModel } from '../../api/index.ts';
import { costUSD } from '../accounting/usage.ts';
import { sseTranslatorPipe, type StreamTranslator } from '../translate/index.ts';
import type { AttemptResult } from './attempt.ts';
import type { Call } from './call.ts';
import { TimeoutError } from './classify.ts';
import { TurnoutError } from '../errors.ts';
import { acceptanceFor, textFromFrames } from '../policy/cascade.ts';

const FINISHED_GRACE_MS = 2000;

export interface StreamAttempt {
  controller: AbortController;
  firstChunkTimer: NodeJS.Timeout;
  idleMs: number;
  model: SnapshotModel;
  attemptStartedAt: number;
  translator: StreamTranslator;
}

/**
 * Streams an upstream SSE answer to the caller, event by event through the dialect translator. Waits
 * for the first frame worth sending before committing (headers sent), so a stream that never starts,
 * or opens with an error event, still fails over. Once committed, a cut, stalled or broken upstream
 * ends with an in-band error frame — never with a clean end that would pass for a full answer.
 */
export async function pipeStream(
  call: Call,
  body: UpstreamBody,
  headers: Record<string, string>,
  a: StreamAttempt,
): Promise<AttemptResult> {
  const chunks = body[Symbol.asyncIterator]();
  const pipe = sseTranslatorPipe(a.translator);
  let first: string[] = [];
  while (first.length === 0) {
    const next = await chunks.next(); // throws before commit: the caller fails over
    first = next.done ? pipe.end() : pipe.feed(next.value);
    if (a.translator.error !== undefined || (next.done && first.length === 0)) {
      body.destroy();
      return {
        kind: 'failed',
        failure: {
          failureClass: 'server-error',
          message: `${headers['x-turnout-provider']}: ${a.translator.error ?? 'empty stream'}`,
        },
      };
    }
    if (next.done) break;
  }
  clearTimeout(a.firstChunkTimer);
  const ttftMs = Date.now() - a.attemptStartedAt;
  const res = call.res;
  // Cascade routes hold the answer back until it has been judged; others stream as it comes.
  const accept = acceptanceFor(call.route.route);
  const held: string[] | undefined = accept ? [] : undefined;
  const recorded = call.recordAnswer ? ([] as string[]) : undefined;
  const sentHeaders = { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  if (!held) res.writeHead(200, sentHeaders);
  const write = async (frames: string[]) => {
    if (frames.length === 0) return;
    if (held) {
      held.push(...frames);
      return;
    }
    recorded?.push(...frames);
    if (!res.write(frames.length === 1 ? (frames[0] as string) : frames.join('')))
      await once(res, 'drain', { signal: call.clientSignal });
  };
  // After the model has finished, only trailing usage and the end marker may follow: an upstream that
  // then goes quiet is closed cleanly after a short grace instead of waiting out the idle timeout.
  let idle = setTimeout(
    () => a.controller.abort(new TimeoutError(`stream stalled: no chunk for ${a.idleMs} ms`)),
    a.idleMs,
  );
  let graceSet = false;
  try {
    await write(first);
    while (!a.translator.completed) {
      if (!graceSet && a.translator.finishReason !== undefined) {
        graceSet = true;
        clearTimeout(idle);
        idle = setTimeout(
          () => a.controller.abort(new TimeoutError('no end marker after the answer finished')),
          Math.min(a.idleMs, FINISHED_GRACE_MS),
        );
      }
      const next = await chunks.next();
      if (next.done) break;
      idle.refresh();
      await write(pipe.feed(next.value));
    }
    await write(pipe.end());
  } catch (err) {
    // The sidecar itself cut the call (its drain window closed): the caller is still there to be told.
    const cut = call.clientSignal.reason instanceof TurnoutError ? call.clientSignal.reason : undefined;
    if (call.clientSignal.aborted && !cut)
      return { kind: 'served', status: 499, ttftMs, streamError: 'caller disconnected' };
    const reason: unknown = a.controller.signal.aborted ? a.controller.signal.reason : err;
    const finished =
      a.translator.finishReason !== undefined && (reason instanceof TimeoutError || cut !== undefined);
    const why =
      cut?.message ?? `upstream stream failed: ${reason instanceof Error ? reason.message : String(reason)}`;
    const frames = finished ? pipe.end() : pipe.fail(call.redactor ? call.redactor.redact(why) : why);
    await write(frames).catch(() => undefined);
    if (!finished) body.destroy();
  } finally {
    clearTimeout(idle);
  }
  const streamError = a.translator.error;
  if (held) {
    const usage = a.translator.usage;
    const cost = usage && costUSD(usage, a.model.pricing);
    if (streamError !== undefined) {
      return {
        kind: 'failed',
        failure: {
          failureClass: 'server-error',
          message: `${headers['x-turnout-provider']}: ${streamError}`,
        },
      };
    }
    const reason = accept?.({
      text: textFromFrames(call.caller, held),
      finishReason: a.translator.finishReason,
      outputTokens: usage?.outputTokens,
    });
    if (reason !== undefined)
      return {
        kind: 'rejected',
        reason,
        ...(usage && { usage }),
        ...(cost !== undefined && { costUSD: cost }),
      };
    res.writeHead(200, sentHeaders);
    res.write(held.join(''));
    recorded?.push(...held);
  }
  res.end();
  const usage = a.translator.usage;
  const cost = usage && costUSD(usage, a.model.pricing);
  return {
    kind: 'served',
    status: 200,
    ttftMs,
    ...(usage && { usage }),
    ...(cost !== undefined && { costUSD: cost }),
    ...(a.translator.finishReason !== undefined && { finishReason: a.translator.finishReason }),
    ...(streamError !== undefined && { streamError }),
    ...(recorded && streamError === undefined && { recorded: { headers: sentHeaders, frames: recorded } }),
  };
}
