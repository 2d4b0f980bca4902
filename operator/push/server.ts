// The push server: sidecars hold an SSE stream of their own pod's snapshot and answer each with ACK or
// NACK. HTTPS only; every request is authenticated with a pod-bound ServiceAccount token. See README.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { DesiredState, SpendCollector, SyncReporter } from '../contract.ts';
import { authenticate } from './authenticate.ts';
import { asPushError, PushError } from './errors.ts';
import { PushMetrics } from './metrics.ts';
import { ACK_PATH, ackBody, HEADER_HAVE, HEADER_REVISION, MAX_ACK_BYTES, STREAM_PATH } from './protocol.ts';
import { method, readBody, send, single } from './http.ts';
import { Publisher, type PushLog } from './publisher.ts';
import { handleSpend } from './spend-endpoint.ts';
import { HEADER_INSTANCE, SPEND_PATH } from './spend-protocol.ts';
import { readTls, reloadTlsOnChange, type TlsFiles } from './tls.ts';
import { CachingReviewer, type TokenReviewer } from './token-review.ts';
import { SyncTracker } from './sync-tracker.ts';

export interface PushServerOptions {
  desired: DesiredState;
  tokenReviewer: TokenReviewer;
  tls: TlsFiles;
  host?: string;
  port?: number;
  /** Share one tracker with the reconciler when it must exist before the server does. */
  tracker?: SyncTracker;
  /** False on a replica that must not serve (not the leader): streams are refused with 503 and closed. */
  acceptStreams?: () => boolean;
  /** Fleet budgets (operator/budgets): takes POST /v1/spend and sends `spend` events. Off when absent. */
  spend?: SpendCollector;
  debounceMs?: number;
  maxDebounceMs?: number;
  pingIntervalMs?: number;
  reviewCacheTtlMs?: number;
  tlsReloadIntervalMs?: number;
  log?: PushLog;
}

export interface RunningPushServer {
  url: string;
  reporter: SyncReporter;
  metrics: Registry;
  close(): Promise<void>;
}

export const DEFAULT_PUSH_PORT = 15401;

export async function startPushServer(opts: PushServerOptions): Promise<RunningPushServer> {
  const log = opts.log ?? (() => undefined);
  const tracker = opts.tracker ?? new SyncTracker();
  const metrics = new PushMetrics();
  const reviewer = new CachingReviewer(opts.tokenReviewer, opts.reviewCacheTtlMs ?? 30_000);
  const acceptStreams = opts.acceptStreams ?? (() => true);
  const publisher = new Publisher({
    desired: opts.desired,
    tracker,
    metrics,
    debounceMs: opts.debounceMs ?? 100,
    maxDebounceMs: opts.maxDebounceMs ?? 1000,
    pingIntervalMs: opts.pingIntervalMs ?? 15_000,
    acceptStreams,
    spend: opts.spend,
    log,
  });
  opts.spend?.attach({
    streams: (ns) => publisher.streams(ns),
    push: (ns) => publisher.pushSpend(ns),
  });
  const ctx: Context = { opts, reviewer, publisher, tracker, metrics, acceptStreams, log };
  // requestTimeout 0: a snapshot stream is one request that lasts as long as the sidecar is connected.
  const server = createServer({ ...readTls(opts.tls), requestTimeout: 0 }, (req, res) => {
    handle(req, res, ctx).catch((e: unknown) => fail(res, e, ctx));
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PUSH_PORT, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const stopTlsReload = reloadTlsOnChange(server, opts.tls, opts.tlsReloadIntervalMs ?? 60_000, (e) =>
    log('tls.reload_failed', { error: e instanceof Error ? e.message : String(e) }),
  );
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `https://${address.includes(':') ? `[${address}]` : address}:${port}`,
    reporter: tracker,
    metrics: metrics.registry,
    close: async () => {
      stopTlsReload();
      publisher.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Context {
  opts: PushServerOptions;
  reviewer: CachingReviewer;
  publisher: Publisher;
  tracker: SyncTracker;
  metrics: PushMetrics;
  acceptStreams: () => boolean;
  log: PushLog;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  switch (path) {
    case STREAM_PATH:
      return stream(req, res, ctx);
    case ACK_PATH:
      return ack(req, res, ctx);
    case SPEND_PATH:
      return handleSpend(req, res, { ...ctx, desired: ctx.opts.desired, spend: ctx.opts.spend });
    case '/healthz':
      method(req, 'GET');
      return send(res, 200, { status: 'ok' });
    case '/metrics':
      method(req, 'GET');
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(await ctx.metrics.registry.metrics());
      return;
    default:
      throw new PushError(404, 'not_found', `no such endpoint: ${req.method} ${path}`);
  }
}

async function stream(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  method(req, 'GET');
  if (!ctx.acceptStreams())
    throw new PushError(
      503,
      'not_serving',
      'this replica does not serve snapshots now; retry (another will)',
    );
  const have = single(req.headers[HEADER_HAVE]) || undefined;
  const revisionText = single(req.headers[HEADER_REVISION]) || '0';
  if (!/^\d{1,15}$/.test(revisionText) || (have !== undefined && !/^sha256:[0-9a-f]{64}$/.test(have)))
    throw new PushError(
      400,
      'bad_request',
      `${HEADER_HAVE} must be empty or sha256:<hex>, ${HEADER_REVISION} a whole number`,
    );
  const instance = single(req.headers[HEADER_INSTANCE]) || undefined;
  if (instance !== undefined && !/^[A-Za-z0-9-]{8,64}$/.test(instance))
    throw new PushError(400, 'bad_request', `${HEADER_INSTANCE} must be 8 to 64 letters, digits or "-"`);
  const auth = await authenticate(req.headers, ctx.reviewer, ctx.opts.desired);
  if (res.destroyed) return;
  ctx.publisher.open(auth, res, have, Number(revisionText), instance);
}

async function ack(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  method(req, 'POST');
  const auth = await authenticate(req.headers, ctx.reviewer, ctx.opts.desired);
  const text = await readBody(req, MAX_ACK_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PushError(400, 'bad_request', 'the body must be JSON: {"version","revision","ok","error"?}');
  }
  const parsed = ackBody.safeParse(json);
  if (!parsed.success)
    throw new PushError(
      400,
      'bad_request',
      `invalid ACK: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
    );
  const body = parsed.data;
  const outcome = ctx.tracker.ack(auth.pod, body);
  if (!outcome.recorded) throw new PushError(409, 'unknown_version', outcome.reason);
  const result = body.ok ? 'ack' : 'nack';
  if (outcome.latencyMs !== undefined) ctx.metrics.ackLatency.observe({ result }, outcome.latencyMs / 1000);
  if (!body.ok) ctx.metrics.nacks.inc();
  ctx.log(`push.${result}`, {
    pod: `${auth.pod.namespace}/${auth.pod.name}`,
    version: body.version,
    ...(body.error !== undefined && { error: body.error.slice(0, 500) }),
  });
  send(res, 200, { recorded: true });
}

function fail(res: ServerResponse, e: unknown, ctx: Context): void {
  const err = asPushError(e);
  ctx.metrics.refused.inc({ code: err.code });
  if (err.status >= 500) ctx.log('request.failed', { code: err.code, error: describe(e) });
  send(res, err.status, { error: { code: err.code, message: err.message } });
}

/** For logs: the error and its cause, cut short, with anything shaped like a JWT blanked out. */
function describe(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
  const text = `${e instanceof Error ? e.message : String(e)}${cause}`.slice(0, 500);
  return text.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<redacted>');
}
