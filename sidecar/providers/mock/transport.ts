// The SIMULATED provider (type: mock): answers in-process in the OpenAI wire format, with the latency,
// chunking and faults its ModelProvider asks for. Used by local mode and tests; never touches the network.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SnapshotMockFault, SnapshotProvider } from '../../../api/index.ts';
import type { PreparedRequest, Transport, UpstreamResponse } from '../types.ts';
import { completionJson, mockAnswer, mockEmbeddings, streamEvents } from './answer.ts';

type MockSettings = NonNullable<SnapshotProvider['mock']>;

export class MockTransport implements Transport {
  readonly #name: string;
  readonly #settings: MockSettings;
  readonly #random: () => number;
  #inFlight = 0;

  constructor(provider: SnapshotProvider, random: () => number = Math.random) {
    this.#name = provider.name;
    this.#settings = provider.mock ?? { latencyMs: 0, chunks: 8, chunkIntervalMs: 0, faults: [] };
    this.#random = random;
  }

  async send(request: PreparedRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    this.#inFlight++;
    try {
      const body = JSON.parse(String(request.body ?? '{}')) as Record<string, unknown>;
      if (request.path.endsWith('/embeddings'))
        return this.#respond('application/json', ended(mockEmbeddings(body)));
      const fault = this.#settings.faults.find((f) => this.#random() < f.probability);
      if (fault?.kind === 'reset')
        throw Object.assign(new Error('simulated connection reset'), { code: 'ECONNRESET' });
      const firstDelay =
        this.#settings.latencyMs + (fault?.kind === 'slow-first-token' ? (fault.delayMs ?? 30_000) : 0);
      if (body.stream !== true || fault?.kind === 'status') await sleep(firstDelay, undefined, { signal });
      if (fault?.kind === 'status') return this.#errorResponse(fault);
      const id = `chatcmpl-sim-${randomUUID()}`;
      const answer = mockAnswer(this.#name, body);
      if (body.stream === true) {
        const usage =
          (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
        const events = streamEvents(id, String(body.model), answer, this.#settings.chunks, usage);
        return this.#respond('text/event-stream', this.#play(events, firstDelay, fault, signal));
      }
      if (fault?.kind === 'stall') await sleep(fault.delayMs ?? 3_600_000, undefined, { signal });
      const json = completionJson(id, String(body.model), answer);
      const out = new PassThrough();
      if (fault?.kind === 'cut-stream') {
        out.write(json.slice(0, json.length >> 1));
        setImmediate(() =>
          out.destroy(Object.assign(new Error('simulated connection cut'), { code: 'ECONNRESET' })),
        );
      } else out.end(json);
      return this.#respond('application/json', out);
    } finally {
      this.#inFlight--;
    }
  }

  #play(
    events: string[],
    firstDelayMs: number,
    fault: SnapshotMockFault | undefined,
    signal: AbortSignal,
  ): PassThrough {
    const out = new PassThrough();
    const cutAt =
      fault?.kind === 'cut-stream' || fault?.kind === 'stall' ? Math.max(1, events.length >> 1) : -1;
    const run = async () => {
      await sleep(firstDelayMs, undefined, { signal });
      for (let i = 0; i < events.length; i++) {
        if (i === cutAt && fault?.kind === 'cut-stream')
          throw Object.assign(new Error('simulated stream cut'), { code: 'ECONNRESET' });
        if (i === cutAt) await sleep(fault?.delayMs ?? 3_600_000, undefined, { signal });
        if (!out.write(events[i])) await new Promise((r) => out.once('drain', r));
        if (this.#settings.chunkIntervalMs > 0 && i < events.length - 1)
          await sleep(this.#settings.chunkIntervalMs, undefined, { signal });
      }
      out.end();
    };
    run().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    return out;
  }

  #errorResponse(fault: SnapshotMockFault): UpstreamResponse {
    const status = fault.status ?? 500;
    const out = new PassThrough();
    out.end(
      JSON.stringify({
        error: { message: `[simulated] injected ${status}`, type: 'server_error', param: null, code: null },
      }),
    );
    const headers: UpstreamResponse['headers'] = { 'content-type': 'application/json' };
    if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
    return { status, headers, body: out };
  }

  #respond(contentType: string, body: PassThrough): UpstreamResponse {
    return { status: 200, headers: { 'content-type': contentType }, body };
  }

  async close(): Promise<void> {
    while (this.#inFlight > 0) await sleep(10);
  }
}

function ended(text: string): PassThrough {
  const out = new PassThrough();
  out.end(text);
  return out;
}
