import assert from 'node:assert/strict';
import { request, createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnoutError } from '../errors.ts';
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

describe('readBody from inside the request handler', () => {
  /** A server that reads each body synchronously in its handler, as the sidecar does. */
  async function serverReadingAtOnce() {
    const seen: { text: string; listened: boolean; ended: boolean }[] = [];
    const server = createServer((req, res) => {
      let listened = false;
      req.on('newListener', (event) => (listened ||= event === 'data'));
      void readBody(req, 1024).then((b) => {
        setImmediate(() => {
          seen.push({ text: b.toString(), listened, ended: req.readableEnded });
          res.end('ok');
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as AddressInfo).port, seen };
  }

  it('takes a body that came with the headers one microtask later, and the request still ends', async () => {
    const { server, port, seen } = await serverReadingAtOnce();
    const socket = connect(port, '127.0.0.1');
    const body = '{"model":"m","messages":[]}';
    socket.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((r) => socket.once('data', r));
    socket.destroy();
    server.close();
    assert.deepEqual(seen, [{ text: body, listened: false, ended: true }]);
  });

  it('waits for the rest of a body that arrives in pieces, keeping every byte', async () => {
    const { server, port, seen } = await serverReadingAtOnce();
    const socket = connect(port, '127.0.0.1');
    socket.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 27\r\n\r\n{"model":"m",');
    await sleep(30);
    socket.write('"messages":[]}');
    await new Promise((r) => socket.once('data', r));
    // A chunked body has no declared length: it is read through events to its end.
    socket.write('POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n');
    await sleep(30);
    socket.write('4\r\n":1}\r\n0\r\n\r\n');
    await new Promise((r) => socket.once('data', r));
    socket.destroy();
    server.close();
    assert.deepEqual(seen, [
      { text: '{"model":"m","messages":[]}', listened: true, ended: true },
      { text: '{"a":1}', listened: true, ended: true },
    ]);
  });
});

describe('readBody of a body that stops arriving', () => {
  /** A server whose handler reads with `signal`; the client sends half a body and then `then(socket)`. */
  async function halfBody(signal: AbortSignal | undefined, then: (s: Socket) => void) {
    let settle!: (v: { error: { code?: string; message?: string }; listeners: number }) => void;
    const outcome = new Promise<{ error: { code?: string; message?: string }; listeners: number }>(
      (r) => (settle = r),
    );
    const server = createServer((req, res) => {
      readBody(req, 1024, signal).then(
        () => settle({ error: { message: 'read a whole body' }, listeners: -1 }),
        (error: { code?: string; message?: string }) => {
          settle({ error, listeners: req.listenerCount('data') + req.listenerCount('end') });
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"model":');
    await sleep(50);
    then(socket);
    const result = await outcome;
    socket.destroy();
    server.closeAllConnections();
    server.close();
    return result;
  }

  it('gives up with the abort reason when its signal aborts (the drain window closed)', async () => {
    const controller = new AbortController();
    const reason = new TurnoutError('shutting_down', 'cut');
    const { error, listeners } = await halfBody(controller.signal, () => controller.abort(reason));
    assert.equal(error, reason);
    assert.equal(listeners, 0, 'stopped listening to the request');
  });

  it('calls a caller that hangs up mid-body caller_disconnected, not an error of its own', async () => {
    const { error } = await halfBody(undefined, (socket) => socket.destroy());
    assert.equal(error.code, 'caller_disconnected');
    const controller = new AbortController();
    const viaSignal = await halfBody(controller.signal, () =>
      controller.abort(new Error('caller disconnected')),
    );
    assert.equal(viaSignal.error.code, 'caller_disconnected');
  });

  it('refuses a compressed body with 415 before reading it', async () => {
    const req = { headers: { 'content-encoding': 'gzip' } } as unknown as IncomingMessage;
    await assert.rejects(readBody(req, 1024), (e: { status?: number; code?: string }) => {
      return e.status === 415 && e.code === 'unsupported_media_type';
    });
  });
});

describe('parseJsonBody and numbers a float cannot hold', () => {
  const refusal = (text: string) => {
    try {
      parseJsonBody(Buffer.from(text));
    } catch (e) {
      return e as { code?: string; param?: string; message: string };
    }
    return undefined;
  };

  it('refuses an overflowing number or an integer beyond ±2^53 - 1, naming where it is', () => {
    assert.equal(refusal('{"max_tokens":1e999}')?.param, 'max_tokens');
    assert.match(refusal('{"max_tokens":1e999}')?.message ?? '', /^max_tokens: .*cannot forward exactly/);
    assert.equal(refusal('{"seed":18446744073709551615}')?.code, 'invalid_request');
    assert.match(refusal('{"seed":18446744073709551615}')?.message ?? '', /reads as 18446744073709552000/);
    assert.equal(refusal('{"a":[{"b":1},{"b":-9007199254740992}]}')?.param, 'a[1].b');
    assert.equal(refusal('[1e400]')?.param, '[0]');
    assert.match(refusal('-1e999')?.message ?? '', /^the body: /);
  });

  it('accepts every number it can forward exactly', () => {
    for (const text of [
      '{"seed":9007199254740991}',
      '{"t":-9007199254740991}',
      '{"p":0.1,"q":1e-300,"r":-0}',
    ])
      assert.equal(refusal(text), undefined, text);
  });
});
