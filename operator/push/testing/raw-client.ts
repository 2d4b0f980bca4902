// Test-only: a bare protocol client, to see exactly what the push server sends and answers.
import { readFile } from 'node:fs/promises';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import type { Snapshot } from '../../../api/index.ts';
import { ACK_PATH, EVENT_SNAPSHOT, STREAM_PATH } from '../protocol.ts';

export interface SseEvent {
  event: string;
  data: string;
}

/** A bare protocol client for tests: the stream's status, its events as they come, and a way out. */
export interface RawStream {
  status: number;
  body: string;
  events: SseEvent[];
  snapshots(): { revision: number; snapshot: Snapshot }[];
  waitFor(pred: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function openStream(
  url: string,
  caFile: string,
  headers: Record<string, string>,
): Promise<RawStream> {
  const agent = new Agent({ connect: { ca: await readFile(caFile, 'utf8') } });
  const abort = new AbortController();
  const res = await request(new URL(STREAM_PATH, url), { dispatcher: agent, headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let body = '';
  const waiters = new Set<() => void>();
  if (res.statusCode === 200) {
    const parser = createParser({
      onEvent: (e) => {
        events.push({ event: e.event ?? 'message', data: e.data });
        for (const w of waiters) w();
      },
    });
    void (async () => {
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) parser.feed(chunk.toString('utf8'));
      } catch {
        // Closed by the test or the server.
      }
      events.push({ event: 'end', data: '' });
      for (const w of waiters) w();
    })();
  } else body = await res.body.text();
  return {
    status: res.statusCode,
    body,
    events,
    snapshots: () =>
      events
        .filter((e) => e.event === EVENT_SNAPSHOT)
        .map((e) => JSON.parse(e.data) as { revision: number; snapshot: Snapshot }),
    waitFor: (pred, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pred(events)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; events: ${events.map((e) => e.event).join(',')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      abort.abort();
      await agent.destroy();
    },
  };
}

/** POSTs to the push server; returns status and parsed JSON (or text). */
export async function postAck(
  url: string,
  caFile: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; json: unknown }> {
  const agent = new Agent({ connect: { ca: await readFile(caFile, 'utf8') } });
  try {
    const res = await request(new URL(ACK_PATH, url), {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await res.body.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // Keep the text.
    }
    return { status: res.statusCode, json };
  } finally {
    await agent.destroy();
  }
}

export const authHeaders = (token: string, pod: { namespace: string; name: string }) => ({
  authorization: `Bearer ${token}`,
  'x-turnout-pod': `${pod.namespace}/${pod.name}`,
});

/** Polls until `check` holds. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
