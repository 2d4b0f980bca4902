// Proof that each gateway's fallback route is really configured: with its primary answering 503 (or
// gone, refusing connections), requests must still come back 200 from the fallback upstream.
import { Client } from 'undici';
import { CHAT_BODY, median } from '../load.ts';
import type { RunningGateway } from './gateway.ts';

export interface FailoverCheck {
  sent: number;
  ok: number;
  /** Statuses other than 200, or the error message, of the first failure. */
  firstFailure?: string;
  /** Median of the successful requests' latency, µs. */
  p50: number;
}

export async function checkFailover(gw: RunningGateway, n: number): Promise<FailoverCheck> {
  const url = new URL(gw.baseUrl);
  const client = new Client(url.origin, { keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  const out: FailoverCheck = { sent: n, ok: 0, p50: Number.NaN };
  try {
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      try {
        const res = await client.request({
          method: 'POST',
          path: `${url.pathname}/chat/completions`,
          headers: { ...gw.headers, 'content-type': 'application/json' },
          body: CHAT_BODY,
          headersTimeout: 30_000,
        });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          out.ok++;
          latencies.push((performance.now() - start) * 1000);
        } else out.firstFailure ??= `${res.statusCode} ${text.slice(0, 200)}`;
      } catch (e) {
        out.firstFailure ??= e instanceof Error ? e.message : String(e);
      }
    }
  } finally {
    await client.close();
  }
  out.p50 = median(latencies);
  return out;
}
