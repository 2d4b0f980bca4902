import { once } from 'node:events';
import type { UpstreamBody } from '../providers/upstream-body.ts';
import type { SnapshotModel } from '../../api/index.ts';
import { costUSD, type Usage } from '../accounting/usage.ts';
import {
  anthropicErrorType,
  kindFromStatus,
  sseTranslatorPipe,
  type SsePipe,
  type StreamFailure,
  type StreamTranslator,
} from '../translate/index.ts';
import type { SecretRedactor } from '../telemetry/redact.ts';
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
 * for the answer to start (content, a tool call, a finish) before committing (headers sent), under the
 * first-token timer: a stream that never starts, opens and stalls, or opens and then sends an error
 * event still fails over. Once committed, a cut, stalled or broken upstream ends with an in-band error
 * frame — never with a clean end that would pass for a full answer; when the upstream sent its own error
 * event, that one (redacted) is the frame, and nothing follows it.
 */
export async function pipeStream(
  call: Call,
  body: UpstreamBody,
  headers: Record<string, string>,
  a: StreamAttempt,
): Promise<AttemptResult> {
  const chunks = body[Symbol.asyncIterator]();
  const pipe = sseTranslatorPipe(a.translator);
  const start = await answerStart(chunks, pipe, a.translator); // throws before commit: the caller fails over
  if (start === undefined) {
    body.destroy();
    return {
      kind: 'failed',
      failure: {
        failureClass: 'server-error',
        message: `${headers['x-turnout-provider']}: ${a.translator.error ?? 'empty stream'}`,
      },
    };
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
  const write = async (ready: string[]) => {
    if (ready.length === 0) return;
    // Once the upstream has sent an error event, what follows may quote it — and the key it was sent.
    // Content frames before that are written untouched: no per-frame cost on the way to the first token.
    const frames = a.translator.error !== undefined && call.redactor ? scrubbed(ready, call.redactor) : ready;
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
  let cut: TurnoutError | undefined;
  try {
    await write(start.frames);
    let ended = start.ended;
    // Until the upstream's end marker, or its in-band error event: after that, the caller is told nothing more.
    while (!ended && !a.translator.completed && a.translator.error === undefined) {
      if (!graceSet && a.translator.finishReason !== undefined) {
        graceSet = true;
        clearTimeout(idle);
        idle = setTimeout(
          () => a.controller.abort(new TimeoutError('no end marker after the answer finished')),
          Math.min(a.idleMs, FINISHED_GRACE_MS),
        );
      }
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        await write(pipe.end());
        break;
      }
      idle.refresh();
      await write(pipe.feed(next.value));
    }
    // The end marker came (for Gemini, the finish chunk): end() writes whatever closes the caller's stream.
    // After an error event it writes nothing, and what the upstream may still send is not waited for.
    if (!ended) await write(pipe.end());
    if (!ended && a.translator.error !== undefined) body.destroy();
  } catch (err) {
    // The sidecar itself cut the call (its drain window closed): the caller is still there to be told.
    cut = call.clientSignal.reason instanceof TurnoutError ? call.clientSignal.reason : undefined;
    // The provider bills what it generated until it saw the disconnect: report the usage seen so far.
    if (call.clientSignal.aborted && !cut)
      return {
        kind: 'served',
        status: 499,
        ttftMs,
        streamError: 'caller disconnected',
        streamErrorCode: 'caller_disconnected',
        ...billed(a),
      };
    const reason: unknown = a.controller.signal.aborted ? a.controller.signal.reason : err;
    const finished =
      a.translator.finishReason !== undefined && (reason instanceof TimeoutError || cut !== undefined);
    const why =
      cut?.message ?? `upstream stream failed: ${reason instanceof Error ? reason.message : String(reason)}`;
    const told = call.redactor ? call.redactor.redact(why) : why;
    const frames = finished ? pipe.end() : pipe.fail(told, cut && failureOf(cut));
    await write(frames).catch(() => undefined);
    if (!finished) body.destroy();
  } finally {
    clearTimeout(idle);
  }
  const streamError = a.translator.error;
  const usage = a.translator.usage;
  const cost = usage && costUSD(usage, a.model.pricing);
  if (held) {
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
  return {
    kind: 'served',
    status: 200,
    ttftMs,
    ...(usage && { usage }),
    ...(cost !== undefined && { costUSD: cost }),
    ...(a.translator.finishReason !== undefined && { finishReason: a.translator.finishReason }),
    ...(streamError !== undefined && { streamError }),
    ...(streamError !== undefined && cut !== undefined && { streamErrorCode: cut.code }),
    ...(recorded && streamError === undefined && { recorded: { headers: sentHeaders, frames: recorded } }),
  };
}

/**
 * Reads until the answer starts, keeping the opening frames (role chunk, message_start, ping) to send
 * with it. Undefined when the stream failed first: an error event, or an end before any answer.
 */
async function answerStart(
  chunks: AsyncIterator<Buffer>,
  pipe: SsePipe,
  translator: StreamTranslator,
): Promise<{ frames: string[]; ended: boolean } | undefined> {
  let frames: string[] = [];
  for (;;) {
    const next = await chunks.next();
    const more = next.done ? pipe.end() : pipe.feed(next.value);
    if (more.length > 0) frames = frames.length === 0 ? more : frames.concat(more);
    if (translator.error !== undefined) return undefined;
    if (translator.started) return { frames, ended: next.done === true };
    if (next.done) return undefined;
  }
}

/** The usage the translator has seen so far, and its cost when the model is priced. */
function billed(a: StreamAttempt): { usage?: Usage; costUSD?: number } {
  const usage = a.translator.usage;
  if (usage === undefined) return {};
  const cost = costUSD(usage, a.model.pricing);
  return cost === undefined ? { usage } : { usage, costUSD: cost };
}

/** The in-band error for a stream the sidecar cut itself: its own code, not the upstream's failure. */
function failureOf(cut: TurnoutError): StreamFailure {
  return {
    code: cut.code,
    type: cut.type,
    anthropicType: anthropicErrorType({ status: cut.status, kind: kindFromStatus(cut.status) }),
  };
}

/** Frames that may quote an upstream's error text, with its secrets (plain or JSON-escaped) replaced. */
function scrubbed(frames: string[], redactor: SecretRedactor): string[] {
  return frames.map((frame) =>
    frame
      .split('\n')
      .map((line) =>
        line.startsWith('data: ') ? `data: ${redactor.redactJson(line.slice(6))}` : redactor.redact(line),
      )
      .join('\n'),
  );
}
