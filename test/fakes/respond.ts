import { planAnswer, type Exchange } from './answer.ts';
import { deliveryOf, type AnswerStep } from './delivery.ts';
import type { Dialect, Route } from './dialects/dialect.ts';
import type { Reply } from './reply.ts';
import type { StatusStep, Step, StreamErrorStep } from './types.ts';
import { writeJson, writeRaw, writeStream } from './writers.ts';

const CACHE_LIMIT = 512;

/** Everything one request's answer needs. */
export interface Turn {
  reply: Reply;
  dialect: Dialect;
  route: Route;
  ex: Exchange;
  /** Default answers by Exchange.cacheKey; reused bytes keep the benchmark path to one lookup. */
  cache: Map<string, Buffer>;
}

export async function respond(step: Step, turn: Turn): Promise<void> {
  if (step.kind === 'hang') return;
  if (step.kind !== 'slow-first-token' && step.delayMs !== undefined) {
    if (!(await turn.reply.pause(step.delayMs))) return;
  }
  switch (step.kind) {
    case 'reset':
      turn.reply.reset();
      return;
    case 'status':
      return sendStatus(step, turn);
    case 'content-filter':
      return respond(turn.dialect.contentFilter(), turn);
    case 'context-length':
      return respond(turn.dialect.contextLength(turn.ex), turn);
    case 'stream-error':
      if (!turn.ex.stream || turn.route.streamError === undefined) return sendStatus(errorStatus(step), turn);
      return sendAnswer(step, turn);
    default:
      return sendAnswer(step, turn);
  }
}

export function sendStatus(step: StatusStep, turn: Pick<Turn, 'reply' | 'dialect'>): Promise<void> {
  const { status, message, errorCode } = step;
  const headers = { ...turn.dialect.replyHeaders(), ...step.headers };
  if (step.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
  if (step.raw !== undefined) return writeRaw(turn.reply, status, Buffer.from(step.raw), headers);
  const body = step.body ?? turn.dialect.errorBody({ status, message, code: errorCode });
  return writeJson(turn.reply, status, Buffer.from(JSON.stringify(body)), headers);
}

async function sendAnswer(step: AnswerStep, turn: Turn): Promise<void> {
  const { ex, route, dialect, reply } = turn;
  const headers = dialect.replyHeaders();
  const cacheKey = step.kind === 'ok' && Object.keys(step).length === 1 ? ex.cacheKey : undefined;
  const cached = cacheKey === undefined ? undefined : turn.cache.get(cacheKey);
  if (cached !== undefined) return writeJson(reply, 200, cached, headers);
  const answer = planAnswer(step, ex);
  const delivery = deliveryOf(step, step.kind === 'stream-error' ? errorEvent(step, turn) : undefined);
  if (ex.stream && route.frames !== undefined) {
    return writeStream(reply, route.frames(answer, ex), dialect.malformedFrame, headers, delivery);
  }
  const body = Buffer.from(JSON.stringify(route.json(answer, ex)));
  if (cacheKey !== undefined) remember(turn.cache, cacheKey, body);
  return writeJson(reply, 200, body, headers, delivery);
}

/** The status step a stream-error stands for: what a non-stream request gets instead. */
function errorStatus(step: StreamErrorStep): StatusStep {
  const status: StatusStep = { kind: 'status', status: step.status ?? 500 };
  if (step.message !== undefined) status.message = step.message;
  if (step.errorCode !== undefined) status.errorCode = step.errorCode;
  return status;
}

function errorEvent(step: StreamErrorStep, { route, dialect }: Turn): string | undefined {
  if (step.frame !== undefined) return step.frame;
  const { status, message, errorCode } = errorStatus(step);
  return route.streamError?.(dialect.errorBody({ status, message, code: errorCode }));
}

function remember(cache: Map<string, Buffer>, key: string, body: Buffer): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, body);
}
