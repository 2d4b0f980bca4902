// One attempt against one target. Nothing reaches the caller until the attempt has something worth
// sending — a complete JSON answer, or a stream's first chunk — so any failure before that point can
// still fail over invisibly. After that point, failures end the stream with an in-band error event.
import type { Readable } from 'node:stream';
import type { SnapshotModel, SnapshotTarget } from '../../api/index.ts';
import { costUSD, formatUSD, usageFromOpenAi, type Usage } from '../accounting/usage.ts';
import type { RuntimeProvider } from '../snapshot/runtime.ts';
import {
  classifyError,
  classifyStatus,
  parseRetryAfter,
  TimeoutError,
  type AttemptFailure,
} from './classify.ts';
import type { Call } from './call.ts';
import { pipeStream } from './stream.ts';

export type AttemptResult =
  | {
      kind: 'served';
      status: number;
      usage?: Usage;
      costUSD?: number;
      streamError?: string;
      ttftMs?: number;
      /** What the caller received, kept only when the route caches: the JSON body or the SSE chunks. */
      recorded?: { headers: Record<string, string>; body?: Buffer; chunks?: Buffer[] };
    }
  | {
      kind: 'failed';
      failure: AttemptFailure;
      body?: Buffer;
      headers?: Record<string, string | string[] | undefined>;
    };

const MAX_ERROR_BODY = 64 * 1024;

export async function runAttempt(
  call: Call,
  target: SnapshotTarget,
  provider: RuntimeProvider,
  model: SnapshotModel,
  attemptNumber: number,
  deadline: number,
): Promise<AttemptResult> {
  const { adapter, transport } = provider;
  if (!adapter || !transport) throw new Error('runAttempt needs a bound provider');
  const attemptStartedAt = Date.now();
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(call.clientSignal.reason);
  call.clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const spec = provider.spec;
  const waitMs = Math.min(
    deadline - Date.now(),
    call.features.stream
      ? (call.route.route.timeouts.firstTokenMs ?? spec.timeouts.firstTokenMs)
      : spec.timeouts.totalMs,
  );
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`no answer within ${waitMs} ms`)),
    Math.max(0, waitMs),
  );
  try {
    const request = adapter.chat(
      { body: call.body, raw: call.raw, stream: call.features.stream },
      { provider: spec, model, apiKey: provider.apiKey },
    );
    const upstream = await transport.send(request, controller.signal);
    if (upstream.status < 200 || upstream.status >= 300) {
      const body = await readAll(upstream.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      const failureClass = classifyStatus(upstream.status);
      const retryAfterMs = parseRetryAfter(upstream.headers['retry-after']);
      const failure: AttemptFailure = {
        failureClass,
        status: upstream.status,
        message: `${spec.name}/${model.name} answered ${upstream.status}`,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
      return { kind: 'failed', failure, body, headers: upstream.headers };
    }
    const headers = servedHeaders(call, target, provider, attemptNumber);
    if (call.features.stream) {
      return await pipeStream(
        call,
        upstream.body,
        headers,
        controller,
        timer,
        spec.timeouts.idleMs,
        model,
        attemptStartedAt,
      );
    }
    const bytes = await readAll(upstream.body, Number.POSITIVE_INFINITY);
    clearTimeout(timer);
    return serveJson(call, bytes, headers, model);
  } catch (err) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
    const failureClass = classifyError(reason);
    return {
      kind: 'failed',
      failure: { failureClass, message: `${spec.name}/${model.name}: ${describe(reason)}` },
    };
  } finally {
    clearTimeout(timer);
    call.clientSignal.removeEventListener('abort', onClientAbort);
  }
}

function serveJson(
  call: Call,
  bytes: Buffer,
  headers: Record<string, string>,
  model: SnapshotModel,
): AttemptResult {
  let parsed: { usage?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as { usage?: unknown };
  } catch {
    // A 200 whose body is not JSON is a broken upstream, not an answer: fail over.
    return {
      kind: 'failed',
      failure: {
        failureClass: 'server-error',
        message: `${headers['x-turnout-provider']}: malformed JSON answer`,
      },
    };
  }
  const usage = usageFromOpenAi(parsed.usage);
  const cost = usage && costUSD(usage, model.pricing);
  if (cost !== undefined) headers['x-turnout-cost-usd'] = formatUSD(cost);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(bytes.length);
  call.res.writeHead(200, headers);
  call.res.end(bytes);
  return {
    kind: 'served',
    status: 200,
    ...(usage && { usage }),
    ...(cost !== undefined && { costUSD: cost }),
    ...(call.recordAnswer && { recorded: { headers, body: bytes } }),
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

export async function readAll(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
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
