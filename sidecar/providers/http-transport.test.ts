import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SnapshotProvider } from '../../api/index.ts';
import { HttpTransport } from './http-transport.ts';
import { readAll } from '../upstream/attempt.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

describe('HttpTransport (undici dispatch, real sockets)', { timeout: 10_000 }, () => {
  const routes = new Map<string, Route>();
  const closed: string[] = [];
  let server: Server;
  let transport: HttpTransport;

  before(async () => {
    server = createServer((req, res) => {
      res.once('close', () => closed.push(req.url ?? ''));
      const route = routes.get(req.url ?? '');
      if (route) route(req, res);
      else res.writeHead(404).end('no route');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    transport = new HttpTransport(provider(`http://127.0.0.1:${port}/v1`));
  });

  after(async () => {
    await transport.close();
    server.closeAllConnections();
    server.close();
  });

  const post = (path: string, signal = new AbortController().signal) =>
    transport.send(
      { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: '{"q":1}' },
      signal,
    );

  it('returns status, lower-cased headers and the whole body, sending the request body', async () => {
    routes.set('/echo', (req, res) => {
      let got = '';
      req.on('data', (c: Buffer) => (got += c.toString()));
      req.on('end', () => res.writeHead(201, { 'X-Echo': 'yes' }).end(`got ${got}`));
    });
    const res = await post('/echo');
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-echo'], 'yes');
    assert.equal((await readAll(res.body, Infinity)).toString(), 'got {"q":1}');
  });

  it('streams chunks as the upstream writes them, before the response ends', async () => {
    let finish: (() => void) | undefined;
    routes.set('/stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      finish = () => res.end('data: [DONE]\n\n');
    });
    const res = await post('/stream');
    const first = await res.body[Symbol.asyncIterator]().next();
    assert.equal(String(first.value), 'data: 1\n\n');
    finish?.();
    assert.equal((await readAll(res.body, Infinity)).toString(), 'data: [DONE]\n\n');
  });

  it('rejects with the abort reason while waiting for headers, and closes that exchange', async () => {
    routes.set('/silent', () => undefined);
    const controller = new AbortController();
    const sending = post('/silent', controller.signal);
    setTimeout(() => controller.abort(new Error('first token timeout')), 20);
    await assert.rejects(sending, /first token timeout/);
    await waitFor(() => closed.includes('/silent'));
  });

  it('ends a body mid-stream with the abort reason and closes the upstream connection', async () => {
    routes.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const controller = new AbortController();
    const res = await post('/endless', controller.signal);
    const chunks = res.body[Symbol.asyncIterator]();
    await chunks.next();
    controller.abort(new Error('caller disconnected'));
    await assert.rejects(chunks.next(), /caller disconnected/);
    await waitFor(() => closed.includes('/endless'));
  });

  it('refuses at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline passed'));
    await assert.rejects(post('/echo', controller.signal), /deadline passed/);
  });

  it('rejects when the upstream resets before answering', async () => {
    routes.set('/reset', (req) => req.socket.destroy());
    await assert.rejects(post('/reset'), (e: Error & { code?: string }) => e.code === 'UND_ERR_SOCKET');
  });

  it("waits for a first body byte longer than the provider's idle: the caller's timers govern", async () => {
    routes.set('/late-first-byte', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      // Well past the 100 ms idle and past undici's coarse (~500 ms) timer tick, so a body timeout would fire.
      setTimeout(() => res.end('data: late\n\n'), 1200);
    });
    const { port } = server.address() as AddressInfo;
    const spec = provider(`http://127.0.0.1:${port}/v1`);
    const shortIdle = new HttpTransport({ ...spec, timeouts: { ...spec.timeouts, idleMs: 100 } });
    try {
      const res = await shortIdle.send(
        { method: 'POST', path: '/late-first-byte', headers: {}, body: '{}' },
        new AbortController().signal,
      );
      assert.equal((await readAll(res.body, Infinity)).toString(), 'data: late\n\n');
    } finally {
      await shortIdle.close();
    }
  });

  it('destroying a body cancels the rest of the upstream answer', async () => {
    routes.set('/long', (_req, res) => {
      res.writeHead(200);
      res.write('part');
    });
    const res = await post('/long');
    await res.body[Symbol.asyncIterator]().next();
    res.body.destroy();
    await waitFor(() => closed.includes('/long'));
  });
});

function provider(endpoint: string): SnapshotProvider {
  return {
    name: 'upstream',
    type: 'openai',
    simulated: false,
    endpoint,
    models: [],
    tags: {},
    limits: {},
    timeouts: { connectMs: 1000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 },
    circuitBreaker: { consecutiveFailures: 5, openForMs: 1000 },
  };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached within 2 s');
}
