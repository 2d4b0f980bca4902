// The HTTPS endpoint the apiserver calls. Served by every replica (not only the leader): admission must
// not wait for a leader election. The certificate is re-read from its files when they change.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PushError } from '../push/errors.ts';
import { readBody } from '../push/http.ts';
import { readTls, reloadTlsOnChange, type TlsFiles } from '../push/tls.ts';
import { errorText, type Logger } from '../kube/log.ts';
import { BadReview, parseReview, review, reviewEnvelope, type Reviewed } from './admission.ts';
import type { InjectionContext } from './inject.ts';
import type { WebhookMetrics } from './metrics.ts';

export const MUTATE_PATH = '/mutate';
/** The apiserver never sends more than its own request limit (3 MiB); anything larger is not a review. */
const MAX_REVIEW_BYTES = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  host: string;
  port: number;
  tls: TlsFiles;
  context: InjectionContext;
  metrics: WebhookMetrics;
  log: Logger;
  /** Called after each answered review (side effects such as publishing the namespace's CA files). */
  onReviewed?: (r: Reviewed) => void;
  ready?: () => boolean;
  tlsReloadIntervalMs?: number;
}

export interface RunningWebhookServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<RunningWebhookServer> {
  const server = createServer({ ...readTls(opts.tls) }, (req, res) => {
    handle(req, res, opts).catch((e: unknown) => {
      opts.metrics.admissions.inc({ result: 'error', mode: '' });
      opts.log.error('admission failed', { error: errorText(e) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  const observeExpiry = () => {
    try {
      const cert = new X509Certificate(readFileSync(opts.tls.cert));
      opts.metrics.certificateExpiry.set(Date.parse(cert.validTo) / 1000);
    } catch {
      // Mid-rotation; the next reload sets it.
    }
  };
  observeExpiry();
  const stopReload = reloadTlsOnChange(server, opts.tls, opts.tlsReloadIntervalMs ?? 1000, (e) =>
    opts.log.warn('webhook certificate reload failed', { error: errorText(e) }),
  );
  const expiryTimer = setInterval(observeExpiry, 30_000).unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `https://${address.includes(':') ? `[${address}]` : address}:${port}${MUTATE_PATH}`,
    server,
    close: async () => {
      stopReload();
      clearInterval(expiryTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: WebhookServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
    const ok = path === '/healthz' || (opts.ready?.() ?? true);
    text(res, ok ? 200 : 503, ok ? 'ok' : 'not ready');
    return;
  }
  if (path !== MUTATE_PATH) return text(res, 404, 'not found');
  if (req.method !== 'POST') return text(res, 405, 'use POST');
  const started = process.hrtime.bigint();
  let reviewed: Reviewed;
  try {
    const body = await readBody(req, MAX_REVIEW_BYTES);
    reviewed = review(parseReview(body), opts.context);
  } catch (e) {
    if (!(e instanceof BadReview) && !(e instanceof PushError)) throw e;
    opts.metrics.admissions.inc({ result: 'error', mode: '' });
    return text(res, e instanceof PushError ? e.status : 400, e.message);
  }
  const body = JSON.stringify(reviewEnvelope(reviewed.response));
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  opts.metrics.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  const plan = reviewed.plan;
  const result = !plan
    ? 'skipped'
    : plan.kind === 'patch'
      ? 'injected'
      : plan.kind === 'deny'
        ? 'denied'
        : 'skipped';
  opts.metrics.admissions.inc({ result, mode: plan?.kind === 'patch' ? plan.mode : '' });
  if (plan && plan.kind !== 'skip')
    opts.log.info(`pod ${result}`, {
      namespace: reviewed.namespace,
      dryRun: reviewed.dryRun,
      ...(plan.kind === 'patch' ? { mode: plan.mode, hosts: plan.hosts } : { reason: plan.message }),
    });
  opts.onReviewed?.(reviewed);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}
