// The sidecar's one HTTP port. Path dispatch is a plain switch: there are few endpoints and this is the
// hot path. Every failure becomes an error in the caller's dialect; nothing thrown here can stop the process.
import type * as NodeHttp from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { TLSSocket } from 'node:tls';
import { asTurnoutError, TurnoutError } from '../errors.ts';
import { shuttingDown, type Drain } from '../health/drain.ts';
import type { SidecarState } from '../runtime-state.ts';
import type { SnapshotStore } from '../snapshot/store.ts';
import type { Decision } from '../upstream/call.ts';
import { handleChat, type ChatHandlerOptions, type PendingDecision } from './chat-handler.ts';
import {
  ANTHROPIC_MESSAGES,
  OPENAI_CHAT,
  OPENAI_EMBEDDINGS,
  OPENAI_RESPONSES,
  type InboundApi,
} from './inbound.ts';
import { sendError, sendJson, type ErrorDialect } from './respond.ts';
import type { SidecarMetrics } from '../metrics.ts';
import type { Telemetry } from '../telemetry/index.ts';
import type { AfterCallQueue } from '../telemetry/after-call.ts';
import { refusalDecision, type Refusal } from '../telemetry/refusal.ts';

// `import { createServer } from 'node:http'` makes Node build that module's ESM namespace, which reads every
// export — including the lazy WebSocket, CloseEvent and MessageEvent getters that load Node's bundled
// fetch/WebSocket implementation: ~13 MB of RSS and 2.5 MB of heap in every sidecar, for code it never runs.
// require() reads only what is asked for.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof NodeHttp;

export interface SidecarServerOptions {
  store: SnapshotStore;
  maxBodyBytes: number;
  metrics: SidecarMetrics;
  onDecision?: (d: Decision) => void;
  onInternalError?: (e: unknown) => void;
  state: SidecarState;
  telemetry?: Telemetry;
  /** Shutdown state: while draining, readiness fails and new calls are refused (retriable). */
  drain?: Drain;
  /** Where each call's metrics, spans and decision go once it is answered; without one, at once. */
  afterCall?: AfterCallQueue;
  /** How long a caller has to send a whole request, headers and body (default 60 s). */
  requestTimeoutMs?: number;
  /**
   * Refuse requests that look like a web page's: with Origin, or with a Host that is not a loopback name
   * (see {@link assertLocalCaller}). On by default, for `turnout dev` on a machine with a browser; off in
   * `turnout sidecar`, where only the pod's own containers reach the port (cli/sidecar.ts says why).
   */
  refuseWebPages?: boolean;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The caller is in the same pod, on loopback: even a 16 MiB body arrives in milliseconds, so a minute
 * only ever cuts a request that trickles in (one byte every few seconds holds a connection, a buffer
 * and a call slot for as long as the caller likes). Node's requestTimeout covers receiving the request
 * only: the clock stops when the last byte of the body is parsed (llhttp's message-complete), so an
 * answer that streams for an hour is never cut by it. Node then answers 408 and closes the connection.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export function createSidecarServer(opts: SidecarServerOptions): Server {
  // What every call's handler is given: built once, not per request.
  const chatOptions: ChatHandlerOptions = {
    maxBodyBytes: opts.maxBodyBytes,
    current: () => opts.store.current,
    state: opts.state,
    ...(opts.onDecision && { onDecision: opts.onDecision }),
    telemetry: opts.telemetry?.hooks,
  };
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      requestTimeout,
      headersTimeout: Math.min(60_000, requestTimeout),
      // How often Node looks for expired requests: a quarter of the timeout, within Node's default 30 s.
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
    (req, res) => {
      void handle(req, res, opts, chatOptions);
    },
  );
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: SidecarServerOptions,
  chatOptions: ChatHandlerOptions,
): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  // While draining, every answer closes its connection: keep-alive callers reconnect (to a new pod).
  if (opts.drain?.draining) res.shouldKeepAlive = false;
  try {
    const api = inferenceApi(path);
    if (api) return await chat(req, res, opts, api, chatOptions);
    if (opts.refuseWebPages !== false) assertLocalCaller(req);
    if (path === '/v1/models') return requireMethod(req, 'GET', () => models(res, opts));
    return await ops(req, res, opts, path);
  } catch (e) {
    const err = asTurnoutError(e);
    if (err.code === 'internal_error') opts.onInternalError?.(e);
    // Messages can quote upstream errors; an upstream that echoed a credential must not reach the caller.
    else if (opts.telemetry) err.message = opts.telemetry.redact(err.message);
    sendError(res, err, dialectOf(path));
  }
}

/** The inference surface a path serves, if it is one: calls there are counted and logged, refusals too. */
function inferenceApi(path: string | undefined): InboundApi | undefined {
  switch (path) {
    case '/v1/chat/completions':
      return OPENAI_CHAT;
    case '/v1/messages':
      return ANTHROPIC_MESSAGES;
    case '/v1/embeddings':
      return OPENAI_EMBEDDINGS;
    case '/v1/responses':
      return OPENAI_RESPONSES;
    default:
      return undefined;
  }
}

/** Anthropic's error shape on its own paths (unknown ones such as /v1/messages/count_tokens too). */
function dialectOf(path: string | undefined): ErrorDialect {
  return path === '/v1/messages' || path?.startsWith('/v1/messages/') ? 'anthropic' : 'openai';
}

/**
 * Whatever reaches the routing port spends this pod's provider credentials, and binding loopback does
 * not keep out the browser on a developer's machine running `turnout dev`: any web page it opens may
 * POST there (a text/plain body needs no CORS preflight, and the page never needs to read the answer),
 * or rebind its own hostname's DNS to 127.0.0.1. So a request carrying Origin — browsers send it on
 * every POST and every cross-origin request; apps and SDKs outside a browser do not — is refused,
 * and so is one whose Host is not a loopback name (a rebinding page's request carries its own host).
 * Connections from the transparent egress listener (TLS, handed over by sidecar/transparent) name
 * the provider they were meant for in Host (api.openai.com), so only the Origin rule applies to them.
 * In a pod (`turnout sidecar`) none of this runs: the port is reachable from the pod's containers only,
 * where no browser runs, and an app that forwards its own caller's Origin or Host must not be refused.
 */
function assertLocalCaller(req: IncomingMessage): void {
  if (req.headers.origin !== undefined) {
    throw new TurnoutError(
      'forbidden',
      'requests from web pages (with an Origin header) are refused: this port spends the pod’s provider credentials on any call it gets; call it from your application’s server side instead',
    );
  }
  const host = req.headers.host;
  if (host === undefined || (req.socket as Partial<TLSSocket>).encrypted === true) return;
  // A keep-alive caller sends the same Host on every request: the connection remembers the last one
  // found good (its check costs ~15 µs of a cold call), and any other value is checked afresh.
  const socket = req.socket as typeof req.socket & { [goodHost]?: string };
  if (socket[goodHost] === host) return;
  if (isLoopbackHost(host, socket.localAddress)) socket[goodHost] = host;
  else {
    throw new TurnoutError(
      'forbidden',
      `Host "${host}" is not a loopback name: this port answers only requests addressed to localhost, 127.0.0.1 or [::1], which keeps DNS-rebinding web pages out`,
    );
  }
}

/** The Host a connection's last request passed the loopback check with. */
const goodHost = Symbol('turnout.goodHost');

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Whether a Host header (name or address, with or without a port) names this machine's loopback. */
export function isLoopbackHost(host: string, localAddress?: string): boolean {
  let name = host.toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']'));
  else if (name.includes(':')) name = name.slice(0, name.lastIndexOf(':'));
  if (name.endsWith('.')) name = name.slice(0, -1); // the fully qualified form, "localhost."
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') || // RFC 6761: resolved to loopback by the resolver itself, never by DNS
    name === '::1' ||
    IPV4_LOOPBACK.test(name) ||
    name === localAddress
  );
}

async function chat(
  req: IncomingMessage,
  res: ServerResponse,
  opts: SidecarServerOptions,
  api: InboundApi,
  chatOptions: ChatHandlerOptions,
): Promise<void> {
  const tracer = opts.telemetry?.tracer;
  // Only a traced call reads the clock here: a refusal's latency is measured when tracing is on.
  const start = tracer ? performance.now() : 0;
  let decision: PendingDecision | undefined;
  let untrack: (() => void) | undefined;
  try {
    if (opts.refuseWebPages !== false) assertLocalCaller(req);
    if (req.method !== 'POST') throw methodNotAllowed(req, 'POST');
    if (opts.drain?.draining)
      throw shuttingDown('the Turnout sidecar is shutting down and takes no new calls; retry shortly');
    const client = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) client.abort(new Error('caller disconnected'));
    });
    // Cut when the drain window closes: a call that sent nothing yet gets a retriable error; a stream
    // under way ends with an in-band error event (the abort reason tells the stream code why).
    untrack = opts.drain?.track((reason) => {
      if (!res.headersSent) sendError(res, reason, api.caller === 'anthropic' ? 'anthropic' : 'openai');
      client.abort(reason);
    });
    decision = await handleChat(req, res, chatOptions, client.signal, api);
  } catch (e) {
    decision = (e as { decision?: PendingDecision }).decision;
    if (!decision) recordRefusal(req, api, asTurnoutError(e), start, opts);
    throw e;
  } finally {
    untrack?.();
    if (decision) record(req, decision, opts);
  }
}

/** The answered call's metrics, spans (which set its trace id) and decision, in that order. */
function record(req: IncomingMessage, pending: PendingDecision, opts: SidecarServerOptions): void {
  const runtime = opts.store.current;
  const end = performance.now();
  const task = () => {
    const decision = pending();
    opts.metrics.observe(decision);
    opts.telemetry?.tracer?.recordDecision(req, decision, runtime, end);
    opts.onDecision?.(decision);
  };
  if (opts.afterCall) opts.afterCall.defer(task);
  else task();
}

/**
 * A call refused before it was routed is counted, traced and logged like any answered call (see
 * telemetry/refusal.ts). This runs on refusals only: the answered-call path pays nothing for it.
 */
function recordRefusal(
  req: IncomingMessage,
  api: InboundApi,
  err: TurnoutError,
  start: number,
  opts: SidecarServerOptions,
): void {
  const tracer = opts.telemetry?.tracer;
  const end = tracer ? performance.now() : 0;
  // Fixed now: the caller's copy of the message is redacted in place later.
  const refusal: Refusal = {
    api: api.name,
    operation: api.operation,
    status: err.status,
    code: err.code,
    message: err.message,
    snapshot: opts.store.current?.version,
    latencyMs: end - start,
    refusedAt: Date.now(),
  };
  const task = () => {
    const decision = refusalDecision(refusal, opts.telemetry?.redactor);
    opts.metrics.observeRefusal(decision);
    tracer?.recordRefusal(req, decision, start, end);
    opts.onDecision?.(decision);
  };
  if (opts.afterCall) opts.afterCall.defer(task);
  else task();
}

function requireMethod<T>(req: IncomingMessage, method: string, then: () => T): T {
  if (req.method !== method) throw methodNotAllowed(req, method);
  return then();
}

/** 405 with the Allow header HTTP requires of it. */
function methodNotAllowed(req: IncomingMessage, allowed: string): TurnoutError {
  return new TurnoutError('method_not_allowed', `use ${allowed} for ${req.url}`, {
    headers: { allow: allowed },
  });
}

function models(res: ServerResponse, opts: SidecarServerOptions): void {
  const runtime = opts.store.current;
  if (!runtime) throw new TurnoutError('not_ready', 'no routing policy is loaded yet', { retryAfter: 1 });
  const data = runtime.modelNames.map((id) => ({ id, object: 'model', created: 0, owned_by: 'turnout' }));
  sendJson(res, 200, { object: 'list', data });
}

function ready(res: ServerResponse, opts: Pick<SidecarServerOptions, 'store' | 'drain'>): void {
  if (opts.drain?.draining) {
    sendJson(res, 503, { status: 'draining', reason: 'shutting down: finishing calls in flight' });
    return;
  }
  const runtime = opts.store.current;
  if (!runtime) {
    sendJson(res, 503, { status: 'not ready', reason: 'no routing policy snapshot loaded yet' });
    return;
  }
  sendJson(res, 200, { status: 'ready', snapshot: runtime.version });
}

/** Health and metrics: on the routing port, and alone on the optional scrape port. */
async function ops(
  req: IncomingMessage,
  res: ServerResponse,
  opts: Pick<SidecarServerOptions, 'store' | 'metrics' | 'drain'>,
  path: string | undefined,
): Promise<void> {
  switch (path) {
    case '/healthz':
      return requireMethod(req, 'GET', () => sendJson(res, 200, { status: 'ok' }));
    case '/readyz':
      return requireMethod(req, 'GET', () => ready(res, opts));
    case '/metrics':
      return await requireMethod(req, 'GET', () => opts.metrics.serve(res));
    default:
      throw new TurnoutError('not_found', `no such endpoint: ${req.method} ${path}`);
  }
}

/**
 * The scrape port: /healthz, /readyz and /metrics only. It may listen beyond loopback (for kubelet
 * probes and Prometheus) because nothing on it can reach an upstream or spend a credential.
 */
export function createOpsServer(opts: Pick<SidecarServerOptions, 'store' | 'metrics' | 'drain'>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    ops(req, res, opts, path).catch((e: unknown) => sendError(res, asTurnoutError(e)));
  });
}
