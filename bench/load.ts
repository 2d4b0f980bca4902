import { Client } from 'undici';

export const CHAT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: 'Summarise the benefits of keep-alive connections in one sentence.' },
  ],
  max_tokens: 64,
});

/**
 * Closed loop: one keep-alive connection, `n` requests one after another, each timed from send to the
 * last body byte. Returns latencies in microseconds.
 */
export async function closedLoop(baseUrl: string, n: number, body = CHAT_BODY): Promise<number[]> {
  const url = new URL(baseUrl);
  const client = new Client(url.origin, { keepAliveTimeout: 60_000, pipelining: 1 });
  const path = `${url.pathname.replace(/\/$/, '')}/chat/completions`;
  const out: number[] = new Array<number>(n);
  try {
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      const res = await client.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`${baseUrl} answered ${res.statusCode}`);
      out[i] = Number(process.hrtime.bigint() - start) / 1000;
    }
  } finally {
    await client.close();
  }
  return out;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
