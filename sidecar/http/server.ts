// The sidecar's one HTTP port. Path dispatch is a plain switch: there are few endpoints and this is the
// hot path. Every failure becomes an error in the caller's dialect; nothing thrown here can stop the process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { asTurnoutError, TurnoutError } from '../errors.ts';
import type { SidecarState } from '../runtime-state.ts';
import type { SnapshotStore } from '../snapshot/store.ts';
import type { Decision } from '../upstream/call.ts';
import { handleChat } from './chat-handler.ts';
import {
  ANTHROPIC_MESSAGES,
  OPENAI_CHAT,
  OPENAI_EMBEDDINGS,
  OPENAI_RESPONSES,
  type InboundApi,
} from './inbound.ts';
import { sendError, sendJson } from './respond.ts';
import type { SidecarMetrics } from '../metrics.ts';
import type { Telemetry } from '../telemetry/index.ts';

export interface SidecarServerOptions {
  store: SnapshotStore;
  maxBodyBytes: number;
  metrics: SidecarMetrics;
  onDecision?: (d: Decision) => void;
  onInternalError?: (e: unknown) => void;
  state: SidecarState;
  telemetry?: Telemetry;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export function createSidecarServer(opts: SidecarServerOptions): Server {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    void handle(req, res, opts);
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: SidecarServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  try {
    switch (path) {
      case '/v1/chat/completions':
        return await chat(req, res, opts, OPENAI_CHAT);
      case '/v1/messages':
        return await chat(req, res, opts, ANTHROPIC_MESSAGES);
      case '/v1/embeddings':
        return await chat(req, res, opts, OPENAI_EMBEDDINGS);
      case '/v1/responses':
        return await chat(req, res, opts, OPENAI_RESPONSES);
      case '/v1/models':
        return requireMethod(req, 'GET', () => models(res, opts));
      default:
        return await ops(req, res, opts, path);
    }
  } catch (e) {
    const err = asTurnoutError(e);
    if (err.code === 'internal_error') opts.onInternalError?.(e);
    // Messages can quote upstream errors; an upstream that echoed a credential must not reach the caller.
    else if (opts.telemetry) err.message = opts.telemetry.redact(err.message);
    sendError(res, err, path === '/v1/messages' ? 'anthropic' : 'openai');
  }
}

async function chat(
  req: IncomingMessage,
  res: ServerResponse,
  opts: SidecarServerOptions,
  api: InboundApi,
): Promise<void> {
  if (req.method !== 'POST') throw new TurnoutError('method_not_allowed', `use POST for ${req.url}`);
  const client = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) client.abort(new Error('caller disconnected'));
  });
  const tracer = opts.telemetry?.tracer;
  const start = tracer ? performance.now() : 0;
  let decision: Decision | undefined;
  let failure: unknown;
  try {
    decision = await handleChat(
      req,
      res,
      {
        maxBodyBytes: opts.maxBodyBytes,
        current: () => opts.store.current,
        state: opts.state,
        ...(opts.onDecision && { onDecision: opts.onDecision }),
        telemetry: opts.telemetry?.hooks,
      },
      client.signal,
      api,
    );
  } catch (e) {
    decision = (e as { decision?: Decision }).decision;
    failure = e;
    throw e;
  } finally {
    if (decision) {
      opts.metrics.observe(decision);
      tracer?.recordDecision(req, decision, opts.store.current);
      opts.onDecision?.(decision);
    } else if (tracer && failure !== undefined)
      tracer.recordRefusal(req, api.operation, api.name, start, asTurnoutError(failure));
  }
}

function requireMethod<T>(req: IncomingMessage, method: string, then: () => T): T {
  if (req.method !== method) throw new TurnoutError('method_not_allowed', `use ${method} for ${req.url}`);
  return then();
}

function models(res: ServerResponse, opts: SidecarServerOptions): void {
  const runtime = opts.store.current;
  if (!runtime) throw new TurnoutError('not_ready', 'no routing policy is loaded yet', { retryAfter: 1 });
  const data = runtime.modelNames.map((id) => ({ id, object: 'model', created: 0, owned_by: 'turnout' }));
  sendJson(res, 200, { object: 'list', data });
}

function ready(res: ServerResponse, opts: Pick<SidecarServerOptions, 'store'>): void {
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
  opts: Pick<SidecarServerOptions, 'store' | 'metrics'>,
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
export function createOpsServer(opts: Pick<SidecarServerOptions, 'store' | 'metrics'>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    ops(req, res, opts, path).catch((e: unknown) => sendError(res, asTurnoutError(e)));
  });
}
