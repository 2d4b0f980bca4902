// The latency suites' load helpers: paths taking turns must rotate fairly and count every exchange, a
// stream that does not end with [DONE] must fail the run, TTFT must be timed to the first content event
// (not to an opening role-only chunk), and per-round ratios must be what they say.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ClosedLoopClient, inTurns, PathFailed, roundRatios } from '../../bench/load.ts';
import { turnsRound, type TurnTarget } from '../../bench/peers/closed-turns.ts';

const arrivals: string[] = [];

const ROLE_CHUNK = 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n';
const CONTENT_CHUNK = 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n';
/** How long the fakes below wait between the opening role chunk and the first content. */
const FIRST_CONTENT_DELAY_MS = 30;

function server(name: string, streamEnd = 'data: [DONE]\n\n', content = CONTENT_CHUNK): Promise<Server> {
  const s = createServer((req, res) => {
    arrivals.push(name);
    req.resume();
    req.on('end', () => {
      if (req.headers.accept === 'text/event-stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(ROLE_CHUNK);
        setTimeout(() => {
          res.write(content);
          res.end(streamEnd);
        }, FIRST_CONTENT_DELAY_MS);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`;

describe('bench load helpers', () => {
  const servers: Server[] = [];
  before(async () => {
    servers.push(await server('a'), await server('b'), await server('c'), await server('cut', ''));
    servers.push(await server('no-content', undefined, 'data: {"choices":[]}\n\n'));
  });
  after(() => {
    for (const s of servers) s.close();
  });

  it('takes turns request by request, rotating which path goes first', async () => {
    arrivals.length = 0;
    const [a, b, c] = servers as [Server, Server, Server];
    const out = await inTurns({ a: urlOf(a), b: urlOf(b), c: urlOf(c) }, 4, 'json');
    assert.deepEqual(arrivals, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c']);
    for (const path of ['a', 'b', 'c'] as const) {
      assert.equal(out[path].length, 4);
      for (const x of out[path]) assert.ok(x.total > 0 && x.first === x.total && x.firstToken === x.total);
    }
  });

  it('times a stream to its first byte, its first token (past the role-only chunk) and its end', async () => {
    const out = await inTurns({ a: urlOf(servers[0] as Server) }, 2, 'stream');
    for (const x of out.a) {
      assert.ok(x.first > 0 && x.firstToken <= x.total);
      // The first content came FIRST_CONTENT_DELAY_MS after the role chunk; timers may fire a little early.
      assert.ok(
        x.firstToken - x.first >= (FIRST_CONTENT_DELAY_MS - 5) * 1000,
        `${x.first} → ${x.firstToken}`,
      );
    }
  });

  it('fails a stream that carries no token', async () => {
    const client = new ClosedLoopClient(urlOf(servers[4] as Server));
    try {
      await assert.rejects(client.stream(), /stream carried no content/);
    } finally {
      await client.close();
    }
  });

  it('fails a stream that ends without [DONE]', async () => {
    const client = new ClosedLoopClient(urlOf(servers[3] as Server));
    try {
      await assert.rejects(client.stream(), /stream ended without \[DONE\]/);
    } finally {
      await client.close();
    }
  });

  it('names the path whose exchange failed', async () => {
    const [a, , , cut] = servers as [Server, Server, Server, Server];
    const failed = inTurns({ good: urlOf(a), cut: urlOf(cut) }, 3, 'stream');
    await assert.rejects(
      failed,
      (e: unknown) => e instanceof PathFailed && e.path === 'cut' && /\[DONE\]/.test(e.message),
    );
  });

  it('goes on without a peer path that fails, recording why, and keeps every path that has the route', async () => {
    const [a, b, , cut] = servers as [Server, Server, Server, Server];
    const errors = new Map<string, Record<string, string>>();
    const errorsOf = (key: string) => {
      const e = errors.get(key) ?? {};
      errors.set(key, e);
      return e;
    };
    const targets: TurnTarget[] = [
      { key: 'direct', single: urlOf(a), fallback: urlOf(b), headers: {} },
      { key: 'broken', single: urlOf(cut), fallback: urlOf(b), headers: {} },
      { key: 'single-only', single: urlOf(b), headers: { 'x-config': 'c' } },
    ];
    const streams = await turnsRound('ttft', targets, 3, errorsOf);
    assert.deepEqual([...streams.keys()].sort(), ['direct', 'single-only']);
    for (const l of streams.values()) assert.equal(l.length, 3);
    assert.match(errorsOf('broken').ttft ?? '', /stream ended without \[DONE\]/);

    const fallback = await turnsRound('fallback', targets, 2, errorsOf);
    assert.deepEqual([...fallback.keys()].sort(), ['broken', 'direct'], 'the failed stream path only');
    // A path that failed a route is not tried on it again.
    const again = await turnsRound('ttft', targets, 1, errorsOf);
    assert.deepEqual([...again.keys()].sort(), ['direct', 'single-only']);
  });

  it('gives each round its own added-latency ratio', () => {
    // Round 1: direct 100, floor 200 (+100), subject 250 (+150) → 1.5; round 2: +200 vs +100 → 0.5.
    const ratios = roundRatios([[100], [100]], [[200], [300]], [[250], [200]]);
    assert.deepEqual(ratios, [1.5, 0.5]);
  });
});
