import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Client, Pool } from 'undici';

export const CHAT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: 'Summarise the benefits of keep-alive connections in one sentence.' },
  ],
  max_tokens: 64,
});

export const STREAM_BODY = JSON.stringify({ ...(JSON.parse(CHAT_BODY) as object), stream: true });

const chatPath = (url: URL) => `${url.pathname.replace(/\/$/, '')}/chat/completions`;
const elapsedUs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1000;

/** One exchange's timings, µs from send. */
export interface Exchange {
  /** First body byte at the client. */
  first: number;
  /**
   * Time to first token: the first event carrying answer content (text or a tool call) at the client.
   * An OpenAI stream opens with a role-only chunk that holds no token; a proxy may forward it at once or
   * hold it until the answer starts (Turnout holds it, so a stream that opens and then stalls can still
   * fail over), so the first byte is not the first token. Benchmarks of LLM serving (vLLM's
   * benchmark_serving, for one) time TTFT to the first content the same way. Non-streaming: the last byte.
   */
  firstToken: number;
  /** Last body byte. */
  total: number;
}

/** True for an OpenAI chunk event whose first choice carries text or a tool call. */
export function carriesToken(event: EventSourceMessage): boolean {
  if (event.data === '[DONE]') return false;
  const chunk = JSON.parse(event.data) as {
    choices?: { delta?: { content?: string | null; tool_calls?: unknown[] } }[];
  };
  const delta = chunk.choices?.[0]?.delta;
  return Boolean(delta?.content) || (delta?.tool_calls?.length ?? 0) > 0;
}

/**
 * One keep-alive connection to a path, one request at a time. Non-streaming answers must be 200;
 * streams must also end with the OpenAI `[DONE]` event, so a proxy that cut or buffered nothing but the
 * end cannot pass unnoticed.
 */
export class ClosedLoopClient {
  readonly #baseUrl: string;
  readonly #client: Client;
  readonly #path: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, headers: Record<string, string> = {}) {
    const url = new URL(baseUrl);
    this.#baseUrl = baseUrl;
    this.#client = new Client(url.origin, { keepAliveTimeout: 60_000, pipelining: 1 });
    this.#path = chatPath(url);
    this.#headers = headers;
  }

  async json(body = CHAT_BODY): Promise<Exchange> {
    const start = process.hrtime.bigint();
    const res = await this.#client.request({
      method: 'POST',
      path: this.#path,
      headers: { ...this.#headers, 'content-type': 'application/json' },
      body,
    });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${this.#baseUrl} answered ${res.statusCode}`);
    const total = elapsedUs(start);
    return { first: total, firstToken: total, total };
  }

  async stream(body = STREAM_BODY): Promise<Exchange> {
    const start = process.hrtime.bigint();
    const res = await this.#client.request({
      method: 'POST',
      path: this.#path,
      headers: { ...this.#headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body,
    });
    let first = -1;
    let firstToken = -1;
    let tail = '';
    // Events are parsed only until the first token; after that only the tail is kept, for the [DONE] check.
    const parser = createParser({
      onEvent: (event) => {
        if (firstToken < 0 && carriesToken(event)) firstToken = elapsedUs(start);
      },
    });
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (first < 0) first = elapsedUs(start);
      const text = chunk.toString('utf8');
      if (firstToken < 0) parser.feed(text);
      tail = (tail + text).slice(-64);
    }
    if (res.statusCode !== 200) throw new Error(`${this.#baseUrl} answered ${res.statusCode}`);
    if (!tail.includes('[DONE]')) throw new Error(`${this.#baseUrl}: stream ended without [DONE]`);
    if (firstToken < 0) throw new Error(`${this.#baseUrl}: stream carried no content`);
    return { first, firstToken, total: elapsedUs(start) };
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/**
 * Closed loop: one keep-alive connection, `n` requests one after another, each timed from send to the
 * last body byte. Returns latencies in microseconds.
 */
export async function closedLoop(
  baseUrl: string,
  n: number,
  body = CHAT_BODY,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const client = new ClosedLoopClient(baseUrl, headers);
  const out: number[] = new Array<number>(n);
  try {
    for (let i = 0; i < n; i++) out[i] = (await client.json(body)).total;
  } finally {
    await client.close();
  }
  return out;
}

export interface StreamTimings {
  /** Send → first token (first content event) at the client, µs. */
  ttft: number[];
  /** Send → last body byte, µs. */
  total: number[];
}

/** Closed loop of streaming requests on one keep-alive connection. */
export async function streamLoop(
  baseUrl: string,
  n: number,
  body = STREAM_BODY,
  headers: Record<string, string> = {},
): Promise<StreamTimings> {
  const client = new ClosedLoopClient(baseUrl, headers);
  const out: StreamTimings = { ttft: new Array<number>(n), total: new Array<number>(n) };
  try {
    for (let i = 0; i < n; i++) {
      const { firstToken, total } = await client.stream(body);
      out.ttft[i] = firstToken;
      out.total[i] = total;
    }
  } finally {
    await client.close();
  }
  return out;
}

/** A path to take turns on: its base URL, and headers a gateway needs on every request (Portkey's config). */
export type TurnPath = string | { url: string; headers: Record<string, string> };

/** An exchange on one path failed (a non-200, a stream without [DONE], a refused connection). */
export class PathFailed extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.path = path;
  }
}

/**
 * Closed loop over several paths at once, taking turns request by request: request i goes to every
 * path once, starting with path i mod k. Paths measured in turns share every moment of the machine, so
 * a burst of other work, or a CPU that slows down, lands on all of them alike instead of on whichever
 * path's round it fell in; the rotating start means no path always runs right after the same other one.
 * Returns each path's exchanges in order; the first failed exchange throws PathFailed naming its path.
 */
export async function inTurns<P extends string>(
  urls: Record<P, TurnPath>,
  n: number,
  kind: 'json' | 'stream',
): Promise<Record<P, Exchange[]>> {
  const paths = Object.keys(urls) as P[];
  const clients = paths.map((p) => {
    const path = urls[p];
    return typeof path === 'string'
      ? new ClosedLoopClient(path)
      : new ClosedLoopClient(path.url, path.headers);
  });
  const out = Object.fromEntries(paths.map((p) => [p, [] as Exchange[]])) as Record<P, Exchange[]>;
  try {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < paths.length; j++) {
        const k = (i + j) % paths.length;
        const client = clients[k] as ClosedLoopClient;
        const timing = await (kind === 'json' ? client.json() : client.stream()).catch((e: unknown) => {
          throw new PathFailed(paths[k] as P, e);
        });
        out[paths[k] as P].push(timing);
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return out;
}

/** Concurrent keep-alive connections a warm-up spreads its requests over. */
const WARMUP_CONNECTIONS = 8;

/**
 * Brings every path to the state a serving proxy is in before anything is timed: `n` requests (or
 * streams) per path, over a few concurrent connections, one path after another. V8 compiles a function
 * with TurboFan only once it has run ~3,000 times (--invocation-count-for-turbofan), and a proxy's
 * request path runs once per request: a warm-up of a few hundred left that code in the baseline tiers
 * for most of the measurement, which timed how fast a proxy's JIT warms up rather than the proxy.
 */
export async function warmUp<P extends string>(
  urls: Record<P, TurnPath>,
  n: number,
  kind: 'json' | 'stream',
): Promise<void> {
  for (const [name, path] of Object.entries(urls) as [P, TurnPath][]) {
    const clients = Array.from({ length: WARMUP_CONNECTIONS }, () =>
      typeof path === 'string' ? new ClosedLoopClient(path) : new ClosedLoopClient(path.url, path.headers),
    );
    let left = n;
    try {
      await Promise.all(
        clients.map(async (client) => {
          while (left-- > 0) await (kind === 'json' ? client.json() : client.stream());
        }),
      );
    } catch (e) {
      throw new PathFailed(name, e);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }
}

export interface OpenLoopResult {
  /** Requests scheduled (rate × seconds). */
  scheduled: number;
  ok: number;
  errors: number;
  /** From each request's scheduled send time to its last body byte (so queueing counts), µs. */
  latencies: number[];
  seconds: number;
  achievedRps: number;
}

/**
 * Open loop: requests are due at a fixed rate whether or not earlier ones finished, over a pool of
 * keep-alive connections. Latency is measured from when a request was due, not when it went out, so a
 * slow server cannot hide behind a load generator that waits for it (coordinated omission).
 */
export async function openLoop(
  baseUrl: string,
  opts: { rps: number; seconds: number; connections: number },
  body = CHAT_BODY,
  headers: Record<string, string> = {},
): Promise<OpenLoopResult> {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const path = chatPath(url);
  const total = Math.round(opts.rps * opts.seconds);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  const fire = (due: number) => {
    const p = pool
      .request({ method: 'POST', path, headers: { ...headers, 'content-type': 'application/json' }, body })
      .then(async (res) => {
        await res.body.arrayBuffer();
        if (res.statusCode === 200) {
          ok++;
          latencies.push((performance.now() - due) * 1000);
        } else errors++;
      })
      .catch(() => void errors++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  try {
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rps) / 1000) + 1);
      for (; sent < due; sent++) fire(t0 + (sent * 1000) / opts.rps);
      await new Promise((r) => setTimeout(r, 1));
    }
    while (inflight.size > 0) await Promise.all([...inflight]);
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { scheduled: total, ok, errors, latencies, seconds, achievedRps: ok / seconds };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * Each round's own ratio of what `subject` adds over `direct` at p50 to what `floor` adds, from the
 * rounds' latencies (µs) of the three paths: how much the headline ratio moved between rounds.
 */
export function roundRatios(
  direct: readonly number[][],
  floor: readonly number[][],
  subject: readonly number[][],
): number[] {
  return direct.map((d, i) => {
    const base = percentile(d, 50);
    return (percentile(subject[i] ?? [], 50) - base) / (percentile(floor[i] ?? [], 50) - base);
  });
}
