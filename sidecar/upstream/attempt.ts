// One attempt against one target. Nothing reaches the caller until the attempt has something worth
// sending — a complete JSON answer, or a stream whose answer has started (its opening events are held
// until the first content) — so any failure before that point can still fail over invisibly. After that point, failures end the stream in-band.
import type { UpstreamBody } from '../providers/upstream-body.ts';
import type { SnapshotModel, SnapshotTarget } from '../../api/index.ts';
import { costUSD, formatUSD, type Usage } from '../accounting/usage.ts';
import { shaperFor, type Shaper } from '../dialects/shaper.ts';
import { TurnoutError } from '../errors.ts';
import type { RuntimeProvider } from '../snapshot/runtime.ts';
import type { AdapterContext, PreparedRequest, ProviderAdapter } from '../providers/types.ts';
import type { Call } from './call.ts';
import {
  classifyError,
  classifyStatus,
  parseRetryAfter,
  TimeoutError,
  type AttemptFailure,
} from './classify.ts';
import { pipeStream } from './stream.ts';
import { acceptanceFor, answerFromJson } from '../policy/cascade.ts';
import { asksForJson } from '../translate/index.ts';

export type AttemptResult =
  | {
      kind: 'served';
      status: number;
      usage?: Usage;
      costUSD?: number;
      streamError?: string;
      /** Set when the sidecar itself cut the stream (its drain window closed): its error code, e.g. shutting_down. */
      streamErrorCode?: string;
      ttftMs?: number;
      finishReason?: string;
      /** What the caller received, kept only when the route caches: the JSON body or the SSE frames. */
      recorded?: { headers: Record<string, string>; body?: Buffer; frames?: string[] };
    }
  | {
      kind: 'failed';
      failure: AttemptFailure;
      body?: Buffer;
      headers?: Record<string, string | string[] | undefined>;
    }
  /** Cascade: the upstream answered, but the answer failed the route's acceptance rules (it was not sent). */
  | { kind: 'rejected'; reason: string; usage?: Usage; costUSD?: number }
  /** The target cannot take this request at all (a parameter it refuses): not an upstream failure. */
  | { kind: 'unsuitable'; error: TurnoutError };

const MAX_ERROR_BODY = 64 * 1024;

interface AttemptTarget {
  target: SnapshotTarget;
  provider: RuntimeProvider;
  model: SnapshotModel;
}

export async function runAttempt(
  call: Call,
  t: AttemptTarget,
  attemptNumber: number,
  deadline: number,
): Promise<AttemptResult> {
  const { adapter, transport, spec } = t.provider;
  if (!adapter || !transport) throw new Error('runAttempt needs a bound provider');
  let request;
  try {
    request = prepareRequest(call, adapter, { provider: spec, model: t.model, apiKey: t.provider.apiKey });
  } catch (e) {
    if (e instanceof TurnoutError) return { kind: 'unsuitable', error: e };
    throw e;
  }
  if (!request) {
    const why = `provider type ${spec.type} does not serve ${call.operation} requests`;
    return { kind: 'unsuitable', error: new TurnoutError('invalid_request', why) };
  }
  // A sampled call tells a real upstream which attempt span it comes from (W3C traceparent).
  if (call.traceUpstream && !spec.simulated) call.traceUpstream(call, request.headers, attemptNumber);
  const shaper = shaperFor(adapter.wireDialect, call.caller, {
    model: t.model.name,
    requestedModel: call.features.model,
    callerWantsUsage: call.callerWantsUsage,
    operation: call.operation,
    jsonMode: adapter.wireDialect === 'anthropic' && asksForJson(call.body),
  });
  const attemptStartedAt = Date.now();
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(call.clientSignal.reason);
  call.clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const waitMs = Math.min(
    deadline - attemptStartedAt,
    call.features.stream
      ? (call.route.route.timeouts.firstTokenMs ?? spec.timeouts.firstTokenMs)
      : spec.timeouts.totalMs,
  );
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`no answer within ${waitMs} ms`)),
    Math.max(0, waitMs),
  );
  try {
    const upstream = await transport.send(request, controller.signal);
    if (upstream.status < 200 || upstream.status >= 300) {
      const body = await readAll(upstream.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      const who = `${spec.name}/${t.model.name}`;
      return upstreamError(upstream.status, upstream.headers, body, shaper, who, call);
    }
    const headers = servedHeaders(call, t.target, t.provider, attemptNumber);
    if (call.features.stream) {
      return await pipeStream(call, upstream.body, headers, {
        controller,
        firstChunkTimer: timer,
        idleMs: spec.timeouts.idleMs,
        model: t.model,
        attemptStartedAt,
        translator: shaper.stream(),
      });
    }
    const bytes = await readAll(upstream.body, Number.POSITIVE_INFINITY);
    clearTimeout(timer);
    return serveJson(call, bytes, headers, t.model, shaper);
  } catch (err) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
    return {
      kind: 'failed',
      failure: {
        failureClass: classifyError(reason),
        message: `${spec.name}/${t.model.name}: ${describe(reason)}`,
      },
    };
  } finally {
    clearTimeout(timer);
    call.clientSignal.removeEventListener('abort', onClientAbort);
  }
}

/** The adapter's request for this call's operation; undefined when the provider type does not serve it. */
function prepareRequest(
  call: Call,
  adapter: ProviderAdapter,
  ctx: AdapterContext,
): PreparedRequest | undefined {
  if (call.untranslatable && adapter.wireDialect !== call.caller) throw call.untranslatable;
  const chatCall = {
    body: call.body,
    caller: call.caller,
    callerBody: call.callerBody,
    raw: call.raw,
    stream: call.features.stream,
    ...(call.caller === 'anthropic' && anthropicBeta(call.features.headers['anthropic-beta'])),
  };
  if (call.operation === 'embeddings') return adapter.embeddings?.(chatCall, ctx);
  if (call.operation === 'responses') return adapter.responses?.(chatCall, ctx);
  return adapter.chat(chatCall, ctx);
}

function anthropicBeta(value: string | string[] | undefined): { anthropicBeta?: string } {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined ? { anthropicBeta: joined } : {};
}

function upstreamError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  shaper: Shaper,
  who: string,
  call: Call,
): AttemptResult {
  // An upstream may echo the key it was sent, plainly or JSON-escaped, and its error can go back to the
  // caller as is: scrubbed before it is shaped, so no translation or excerpt of it can hold the key.
  const clean = call.redactor ? call.redactor.redactBytes(body) : body;
  const { neutral, bytes } = shaper.error(status, clean);
  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  const failure: AttemptFailure = {
    failureClass: classifyStatus(status),
    status,
    message: `${who} answered ${status}${neutral.kind === 'other' ? '' : ` (${neutral.kind})`}`,
    kind: neutral.kind,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  };
  return { kind: 'failed', failure, body: bytes, headers: { 'content-type': 'application/json' } };
}

function serveJson(
  call: Call,
  bytes: Buffer,
  headers: Record<string, string>,
  model: SnapshotModel,
  shaper: Shaper,
): AttemptResult {
  let shaped;
  try {
    shaped = shaper.json(bytes);
  } catch (err) {
    // A 200 whose body is not JSON, or an answer the model failed to give, is not an answer: fail over.
    const why = err instanceof TurnoutError ? err.message : 'malformed JSON answer';
    return {
      kind: 'failed',
      failure: { failureClass: 'server-error', message: `${headers['x-turnout-provider']}: ${why}` },
    };
  }
  const usage = shaped.usage;
  const cost = usage && costUSD(usage, model.pricing);
  const accept = acceptanceFor(call.route.route);
  const rejection = accept?.(
    answerFromJson(call.caller, shaped.bytes, shaped.finishReason, usage?.outputTokens),
  );
  if (rejection !== undefined)
    return {
      kind: 'rejected',
      reason: rejection,
      ...(usage && { usage }),
      ...(cost !== undefined && { costUSD: cost }),
    };
  if (cost !== undefined) headers['x-turnout-cost-usd'] = formatUSD(cost);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(shaped.bytes.length);
  call.res.writeHead(200, headers);
  call.res.end(shaped.bytes);
  return {
    kind: 'served',
    status: 200,
    ...(usage && { usage }),
    ...(cost !== undefined && { costUSD: cost }),
    ...(shaped.finishReason !== undefined && { finishReason: shaped.finishReason }),
    ...(call.recordAnswer && { recorded: { headers, body: shaped.bytes } }),
  };
}

export function servedHeaders(
  call: Call,
  target: SnapshotTarget,
  provider: RuntimeProvider,
  attemptNumber: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'x-turnout-policy': call.route.policy.name,
    'x-turnout-route': call.route.route.name,
    'x-turnout-provider': target.provider,
    'x-turnout-model': target.model,
    'x-turnout-attempts': String(attemptNumber),
  };
  if (provider.spec.simulated) headers['x-turnout-simulated'] = 'true';
  return headers;
}

export async function readAll(body: UpstreamBody, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
