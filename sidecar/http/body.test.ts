import assert from 'node:assert/strict';
import { request, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { readBody } from './body.ts';
import { parseJsonBody } from './chat-handler.ts';

describe('readBody', () => {
  it('refuses an oversized chunked body as soon as it crosses the limit, without buffering it all', async () => {
    let received = -1;
    const server = createServer((req, res) => {
      readBody(req, 1024).then(
        (b) => res.end(String(b.length)),
        (e: { status?: number }) => {
          received = req.socket.bytesRead;
          res.writeHead(e.status ?? 500).end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ port, method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.write(Buffer.alloc(4096));
      // The rest is never sent: a 413 must not wait for it.
    });
    assert.equal(status, 413);
    assert.ok(received < 64 * 1024, `read ${received} bytes`);
    server.closeAllConnections();
    server.close();
  });
});

describe('parseJsonBody', () => {
  it('rejects invalid UTF-8, malformed JSON and absurd nesting with invalid_json', () => {
    assert.throws(() => parseJsonBody(Buffer.from([0x7b, 0xff, 0x7d])), /not valid UTF-8/);
    assert.throws(() => parseJsonBody(Buffer.from('{"a":')), /not valid JSON/);
    assert.throws(
      () => parseJsonBody(Buffer.from('['.repeat(200_000) + ']'.repeat(200_000))),
      (e: { code?: string }) => e.code === 'invalid_json',
    );
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":1}')), { a: 1 });
  });
});

describe('jsonDepthExceeds', () => {
  it('counts only structural brackets, not those inside strings', async () => {
    const { jsonDepthExceeds } = await import('./json-depth.ts');
    assert.equal(jsonDepthExceeds('{"a":"[[[[[[\\"[[["}', 3), false);
    assert.equal(jsonDepthExceeds('[[[[]]]]', 3), true);
    assert.equal(jsonDepthExceeds('[[[]]]', 3), false);
  });
});

describe('readBody of a body that arrived with its headers', () => {
  it('takes the queued body at once, without listening for stream events, and leaves the request ended', async () => {
    const results: { text: string; listened: boolean; ended: boolean }[] = [];
    const server = createServer((req, res) => {
      // A moment later, as on a busy server: by then the parser has surely queued the whole body.
      setImmediate(() => {
        const body = readBody(req, 1024);
        const listened = req.listenerCount('data') > 0 || req.listenerCount('end') > 0;
        void body.then((b) =>
          setImmediate(() => {
            results.push({ text: b.toString(), listened, ended: req.readableEnded });
            res.end('ok');
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    for (const payload of ['{"model":"m"}', '']) {
      await new Promise<void>((resolve, reject) => {
        const headers = { 'content-length': Buffer.byteLength(payload) };
        const req = request({ port, method: 'POST', headers }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(payload);
      });
    }
    assert.deepEqual(results, [
      { text: '{"model":"m"}', listened: false, ended: true },
      { text: '', listened: false, ended: true },
    ]);
    server.close();
  });
});
