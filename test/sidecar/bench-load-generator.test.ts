// The peers suite's open-loop load generator for real: vegeta built from the Go module proxy (cached under
// ~/.cache/turnout/tools), driving the bench's fake OpenAI upstream. Every request scheduled must come back
// counted, answers that fail must count as errors, and a server that holds requests must show it as latency.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CHAT_BODY, percentile } from '../../bench/load.ts';
import { startNode, here, type Started } from '../../bench/processes.ts';
import { attack, ensureVegeta } from '../../bench/peers/vegeta.ts';

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const s = createServer(handler);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}
/** One second of load at `rps` over at most `connections`, the chat body as the bench sends it. */
const oneSecond = (url: string, rps: number, connections: number, headers: Record<string, string> = {}) =>
  attack({ url, body: CHAT_BODY, headers, rps, seconds: 1, connections });
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/chat/completions`;

describe('vegeta load generator', () => {
  let fake: Started;
  const servers: Server[] = [];
  before(async () => {
    await ensureVegeta();
    fake = await startNode(here('./upstream-process.ts'));
  });
  after(async () => {
    await fake.stop();
    for (const s of servers) s.close();
  });

  it('sends every scheduled request to the fake upstream and reads every answer back', async () => {
    const bodies: string[] = [];
    const seen = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(
          `${req.headers['content-type'] ?? ''} ${String(req.headers['x-portkey-config'])} ${body}`,
        );
        res.end('{}');
      });
    });
    servers.push(seen);
    const r = await oneSecond(urlOf(seen), 50, 4, { 'x-portkey-config': 'cfg' });
    assert.ok(r.scheduled >= 49, String(r.scheduled));
    assert.equal(r.ok, r.scheduled);
    assert.equal(r.errors, 0);
    assert.equal(bodies.length, r.ok);
    assert.equal(bodies[0], `application/json cfg ${CHAT_BODY}`);

    const real = await oneSecond(`${fake.url}/chat/completions`, 200, 8);
    assert.equal(real.errors, 0);
    assert.equal(real.ok, real.scheduled);
    assert.ok(real.latencies.every((l) => l > 0 && l < 5_000_000));
  });

  it('counts error statuses and refused connections as errors', async () => {
    const failing = await listen((req, res) => {
      req.resume();
      res.writeHead(503).end();
    });
    servers.push(failing);
    const r = await oneSecond(urlOf(failing), 20, 2);
    assert.equal(r.ok, 0);
    assert.equal(r.errors, r.scheduled);

    const port = (failing.address() as AddressInfo).port;
    await new Promise<void>((resolve) => failing.close(() => resolve()));
    const refused = await oneSecond(`http://127.0.0.1:${port}/v1/chat/completions`, 20, 2);
    assert.equal(refused.ok, 0);
    assert.equal(refused.errors, refused.scheduled);
  });

  it('shows a server that holds requests as latency, queueing behind the connection limit included', async () => {
    // One connection, each answer held 50 ms, 40 due per second: requests queue, and the queue counts.
    const slow = await listen((req, res) => {
      req.resume();
      setTimeout(() => res.end('{}'), 50);
    });
    servers.push(slow);
    const r = await oneSecond(urlOf(slow), 40, 1);
    assert.equal(r.errors, 0);
    assert.ok(percentile(r.latencies, 50) >= 50_000, `p50 ${percentile(r.latencies, 50)} µs`);
    assert.ok(Math.max(...r.latencies) >= 500_000, `max ${Math.max(...r.latencies)} µs`);
  });
});
