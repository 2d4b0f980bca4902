// The soak's open loop: requests fall due at a fixed rate whether or not earlier ones finished (latency
// counts from the due time), alternating streaming and non-streaming calls. Every answer is checked in
// full: a 200 must carry exactly the answer the fake upstream gives for that prompt and, when streamed,
// end with [DONE]; anything else is kept as an error to be classified once the run is over.
import { Pool } from 'undici';

export interface Failure {
  id: number;
  stream: boolean;
  /** What the caller saw. */
  kind: 'http-error' | 'in-band-error' | 'truncated' | 'wrong-answer' | 'transport';
  status?: number;
  /** The error code from the body (HTTP error) or the in-band event, or the transport error's code. */
  code?: string;
  message?: string;
  /** x-turnout-provider of a served stream. */
  provider?: string;
  /** For a stream cut in-band: whether the text received is a true, non-empty prefix of the expected answer. */
  prefixIntact?: boolean;
}

export interface LoadTotals {
  scheduled: number;
  ok: { stream: number; json: number };
  failures: Failure[];
  /** Due time → last byte, µs, per kind (successful calls). */
  latencies: { stream: Float64Array; json: Float64Array };
  seconds: number;
}

/** The fake upstream's default answer: `echo:<model>:<last user text>`. */
const expected = (model: string, id: number) => `echo:${model}:soak-${id}`;

const body = (id: number, stream: boolean) =>
  JSON.stringify({
    model: 'soak',
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      { role: 'user', content: `soak-${id}` },
    ],
    max_tokens: 64,
    ...(stream && { stream: true }),
  });

interface StreamRead {
  content: string;
  done: boolean;
  error?: { code?: string; message?: string };
}

/** The content deltas of an OpenAI chat stream, whether it ended with [DONE], and its in-band error. */
function readStream(text: string): StreamRead {
  const out: StreamRead = { content: '', done: false };
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6);
    if (data === '[DONE]') {
      out.done = true;
      continue;
    }
    const event = JSON.parse(data) as {
      choices?: { delta?: { content?: string } }[];
      error?: { code?: string; message?: string };
    };
    out.content += event.choices?.[0]?.delta?.content ?? '';
    if (event.error) out.error = event.error;
  }
  return out;
}

/** A streamed 200 as its caller saw it: undefined when it is exactly the expected answer. */
export function judgeStream(id: number, text: string, model: string, provider: string): Failure | undefined {
  let read: StreamRead;
  try {
    read = readStream(text);
  } catch (e) {
    return { id, stream: true, kind: 'wrong-answer', message: `unparseable stream: ${String(e)}` };
  }
  const want = expected(model, id);
  if (read.error)
    return {
      id,
      stream: true,
      kind: 'in-band-error',
      provider,
      // The fake sends deltas before it cuts: an error with no text before it lost them.
      prefixIntact: read.content !== '' && want.startsWith(read.content) && !read.done,
      ...(read.error.code !== undefined && { code: read.error.code }),
      ...(read.error.message !== undefined && { message: read.error.message }),
    };
  if (!read.done) return { id, stream: true, kind: 'truncated', provider };
  if (read.content !== want)
    return { id, stream: true, kind: 'wrong-answer', message: `got ${JSON.stringify(read.content)}` };
  return undefined;
}

function judgeJson(id: number, text: string, model: string): Failure | undefined {
  try {
    const answer = JSON.parse(text) as { choices?: { message?: { content?: string } }[] };
    const got = answer.choices?.[0]?.message?.content;
    if (got === expected(model, id)) return undefined;
    return { id, stream: false, kind: 'wrong-answer', message: `got ${JSON.stringify(got)}` };
  } catch (e) {
    return { id, stream: false, kind: 'wrong-answer', message: `unparseable JSON: ${String(e)}` };
  }
}

function httpFailure(id: number, stream: boolean, status: number, text: string): Failure {
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    error = undefined;
  }
  return {
    id,
    stream,
    kind: 'http-error',
    status,
    ...(error?.code !== undefined && { code: error.code }),
    message: error?.message ?? text.slice(0, 200),
  };
}

const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

/** Updated as the load runs, for the samplers: calls sent, and calls sent but not yet answered. */
export interface LoadStatus {
  sent: number;
  inflight: number;
}

export async function soakLoad(
  baseUrl: string,
  opts: { rps: number; seconds: number; connections: number; onProgress?: (sent: number) => void },
  status: LoadStatus = { sent: 0, inflight: 0 },
): Promise<LoadTotals> {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const total = Math.round(opts.rps * opts.seconds);
  const totals: LoadTotals = {
    scheduled: total,
    ok: { stream: 0, json: 0 },
    failures: [],
    latencies: { stream: new Float64Array(total), json: new Float64Array(total) },
    seconds: 0,
  };
  let nStream = 0;
  let nJson = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  const fire = (id: number, due: number) => {
    const stream = id % 2 === 0;
    const p = pool
      .request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: body(id, stream),
      })
      .then(async (res) => {
        const text = await res.body.text();
        const model = header(res.headers, 'x-turnout-model');
        const failure =
          res.statusCode !== 200
            ? httpFailure(id, stream, res.statusCode, text)
            : stream
              ? judgeStream(id, text, model, header(res.headers, 'x-turnout-provider'))
              : judgeJson(id, text, model);
        if (failure) {
          totals.failures.push(failure);
          return;
        }
        const us = (performance.now() - due) * 1000;
        if (stream) {
          totals.ok.stream++;
          totals.latencies.stream[nStream++] = us;
        } else {
          totals.ok.json++;
          totals.latencies.json[nJson++] = us;
        }
      })
      .catch((e: unknown) => {
        const code = (e as { code?: unknown }).code;
        totals.failures.push({
          id,
          stream,
          kind: 'transport',
          ...(typeof code === 'string' && { code }),
          message: e instanceof Error ? e.message : String(e),
        });
      })
      .finally(() => {
        inflight.delete(p);
        status.inflight = inflight.size;
      });
    inflight.add(p);
    status.sent = id + 1;
    status.inflight = inflight.size;
  };
  try {
    let sent = 0;
    let lastProgress = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rps) / 1000) + 1);
      for (; sent < due; sent++) fire(sent, t0 + (sent * 1000) / opts.rps);
      if (opts.onProgress && sent - lastProgress >= opts.rps) {
        lastProgress = sent;
        opts.onProgress(sent);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    while (inflight.size > 0) await Promise.all([...inflight]);
  } finally {
    await pool.close();
  }
  totals.seconds = (performance.now() - t0) / 1000;
  totals.latencies.stream = totals.latencies.stream.slice(0, nStream);
  totals.latencies.json = totals.latencies.json.slice(0, nJson);
  return totals;
}
