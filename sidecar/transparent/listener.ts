// Transparent egress: the app calls https://api.openai.com as always; the pod's hostAliases point that
// name at a loopback address, where this listener terminates TLS with the namespace's leaf from the
// mesh CA and hands the decrypted connection to the sidecar's own HTTP server. Routing, metrics and
// errors are therefore exactly those of explicit mode. Like the routing port it binds loopback only:
// whatever reaches it spends this pod's provider credentials.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext, createServer, type TLSSocket } from 'node:tls';
import { rewriteTransparentPath } from './paths.ts';

export interface TransparentOptions {
  host: string;
  port: number;
  /** PEM files from the mounted Secret; the kubelet swaps them in place on rotation. */
  certFile: string;
  keyFile: string;
  /** How often to look for a rotated certificate (default 2 s). */
  reloadIntervalMs?: number;
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

export interface TransparentListener {
  url: string;
  /** Stops accepting; connections already handed over belong to (and drain with) the HTTP server. */
  close(): void;
}

/** Loopback check shared with the routing port (sidecar/index.ts). */
export type LoopbackAssertion = (host: string) => void;

export async function startTransparentListener(
  http: HttpServer,
  opts: TransparentOptions,
  assertLoopback: LoopbackAssertion,
): Promise<TransparentListener> {
  assertLoopback(opts.host);
  let pem = await readPair(opts);
  assertPair(pem);
  // HTTP/1.1 only: the sidecar's server speaks nothing else, and clients fall back without a hitch.
  const tls = createServer({ ALPNProtocols: ['http/1.1'], ...pem });
  tls.on('secureConnection', (socket: TLSSocket) => http.emit('connection', socket));
  tls.on('tlsClientError', (e) => opts.onEvent?.('transparent.tls_error', { error: e.message }));
  const rewrite = (req: IncomingMessage) => {
    if ((req.socket as Partial<TLSSocket>).encrypted && req.url) req.url = rewriteTransparentPath(req.url);
  };
  http.prependListener('request', rewrite);
  const reload = setInterval(() => {
    readPair(opts)
      .then(
        (next) => {
          if (next.cert === pem.cert && next.key === pem.key) return;
          assertPair(next); // throws on a truncated or mismatched pair (mid-rotation): keep the old one
          // New handshakes get the new certificate; open connections keep the one they started with.
          tls.setSecureContext(next);
          pem = next;
          opts.onEvent?.('transparent.certificate_reloaded', { file: opts.certFile });
        },
        (e: unknown) => opts.onEvent?.('transparent.reload_failed', { error: String(e) }),
      )
      .catch((e: unknown) => opts.onEvent?.('transparent.reload_failed', { error: String(e) }));
  }, opts.reloadIntervalMs ?? 2000);
  reload.unref();
  await new Promise<void>((resolve, reject) => {
    tls.once('error', reject);
    tls.listen(opts.port, opts.host, () => {
      tls.off('error', reject);
      resolve();
    });
  });
  const { address, port } = tls.address() as AddressInfo;
  return {
    url: `https://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => {
      clearInterval(reload);
      tls.close();
    },
  };
}

/** An empty certificate would make a context that fails every handshake, so check before swapping. */
function assertPair(pair: { cert: string; key: string }): void {
  const cert = new X509Certificate(pair.cert);
  if (!cert.checkPrivateKey(createPrivateKey(pair.key)))
    throw new Error('the key does not match the certificate');
  createSecureContext(pair);
}

async function readPair(opts: TransparentOptions): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(opts.certFile, 'utf8'), readFile(opts.keyFile, 'utf8')]);
  return { cert, key };
}
