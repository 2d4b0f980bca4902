import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthority, issueLeaf } from '../../operator/certs/authority.ts';
import { assertLoopback, startSidecar } from '../index.ts';
import { startTransparentListener, type TransparentListener } from './listener.ts';
import { rewriteTransparentPath } from './paths.ts';

const HOUR = 3_600_000;

interface Answer {
  status: number;
  body: string;
  serial: string;
  alpn: string | false | null;
}

/** GET over TLS to the listener, as a client that resolved `servername` to it would. */
function get(url: string, path: string, ca: string, servername: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { ca, servername, agent: agent ?? false, headers: { host: servername } },
      (res) => {
        const socket = res.socket as TLSSocket;
        const serial = socket.getPeerCertificate().serialNumber ?? '';
        const alpn = socket.alpnProtocol;
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial, alpn }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('transparent TLS listener', () => {
  const ca = createAuthority('mesh test CA', HOUR, Date.now());
  let dir: string;
  let http: Server;
  let listener: TransparentListener;
  const events: string[] = [];
  const files = () => ({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  const rotate = async () => {
    const dnsNames = ['api.openai.com', 'generativelanguage.googleapis.com'];
    const leaf = issueLeaf(ca, { commonName: 'ns', dnsNames, lifetimeMs: HOUR }, Date.now());
    // Like the kubelet's atomic update of a Secret volume: new files appear in one step each.
    await writeFile(join(dir, 'k'), leaf.key);
    await writeFile(join(dir, 'c'), leaf.cert);
    await rename(join(dir, 'k'), join(dir, 'tls.key'));
    await rename(join(dir, 'c'), join(dir, 'tls.crt'));
    return new X509Certificate(leaf.cert).serialNumber;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnout-transparent-'));
    await rotate();
    http = createServer((req, res) =>
      res.end(`${req.url} via ${(req.socket as Partial<TLSSocket>).encrypted ? 'tls' : 'plain'}`),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    listener = await startTransparentListener(
      http,
      { host: '127.0.0.1', port: 0, ...files(), reloadIntervalMs: 50, onEvent: (e) => events.push(e) },
      assertLoopback,
    );
  });

  after(async () => {
    listener?.close();
    await new Promise<void>((r) => http.close(() => r()));
    http.closeAllConnections();
    await rm(dir, { recursive: true, force: true });
  });

  it('terminates TLS for the provider hostname and hands the request to the HTTP server, over HTTP/1.1', async () => {
    const res = await get(listener.url, '/v1/chat/completions', ca.cert, 'api.openai.com');
    assert.equal(res.status, 200);
    assert.equal(res.body, '/v1/chat/completions via tls');
    assert.equal(res.alpn, false); // no ALPN from this client; h2-capable clients get http/1.1
  });

  it('maps Gemini’s OpenAI-compatible paths onto the sidecar’s', async () => {
    assert.equal(
      (
        await get(
          listener.url,
          '/v1beta/openai/chat/completions',
          ca.cert,
          'generativelanguage.googleapis.com',
        )
      ).body,
      '/v1/chat/completions via tls',
    );
    assert.equal(rewriteTransparentPath('/v1/messages?beta=true'), '/v1/messages?beta=true');
  });

  it('rotates without a restart: new connections get the new certificate, an open one keeps working', async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(listener.url, '/a', ca.cert, 'api.openai.com', keepAlive);
    const rotated = await rotate();
    let fresh = before.serial;
    for (let i = 0; i < 100 && fresh !== rotated; i++) {
      await sleep(20);
      fresh = (await get(listener.url, '/b', ca.cert, 'api.openai.com')).serial;
    }
    assert.equal(fresh, rotated);
    const reused = await get(listener.url, '/c', ca.cert, 'api.openai.com', keepAlive);
    assert.equal(reused.status, 200);
    assert.equal(
      reused.serial,
      before.serial,
      'the kept-alive connection is the one opened before the rotation',
    );
    assert.ok(events.includes('transparent.certificate_reloaded'));
    keepAlive.destroy();
  });

  it('keeps the old certificate while a rotation is half written', async () => {
    const other = issueLeaf(
      ca,
      { commonName: 'x', dnsNames: ['api.openai.com'], lifetimeMs: HOUR },
      Date.now(),
    );
    const serial = (await get(listener.url, '/', ca.cert, 'api.openai.com')).serial;
    await writeFile(join(dir, 'tls.crt'), other.cert); // key not yet replaced
    await sleep(200);
    assert.equal((await get(listener.url, '/', ca.cert, 'api.openai.com')).serial, serial);
    await writeFile(join(dir, 'tls.crt'), ''); // truncated mid-write
    await sleep(200);
    assert.equal((await get(listener.url, '/', ca.cert, 'api.openai.com')).serial, serial);
    assert.ok(events.includes('transparent.reload_failed'));
  });

  it('binds loopback only', async () => {
    await assert.rejects(
      startTransparentListener(http, { host: '0.0.0.0', port: 0, ...files() }, assertLoopback),
      /loopback/,
    );
  });

  it('is wired into startSidecar: health over TLS on the transparent port', async () => {
    await rotate();
    const sidecar = await startSidecar({
      host: '127.0.0.1',
      port: 0,
      transparent: { host: '127.0.0.1', port: 0, ...files() },
    });
    try {
      assert.match(sidecar.transparentUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await get(sidecar.transparentUrl ?? '', '/healthz', ca.cert, 'api.openai.com');
      assert.equal(res.status, 200);
      const missing = await get(
        sidecar.transparentUrl ?? '',
        '/v1beta/models/gemini:generateContent',
        ca.cert,
        'generativelanguage.googleapis.com',
      );
      assert.equal(missing.status, 404);
    } finally {
      await sidecar.close();
    }
  });
});
