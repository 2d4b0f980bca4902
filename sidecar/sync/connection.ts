// One authenticated connection to the push server: open the snapshot stream, hand each SSE event to
// `onEvent` (in order, one at a time), post ACKs. Credentials are read from files on every connect and
// every ACK, because the kubelet rotates the projected token and the CA bundle may be rotated too.
import { readFile } from 'node:fs/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, request } from 'undici';
import {
  ACK_PATH,
  HEADER_HAVE,
  HEADER_POD,
  HEADER_REVISION,
  STREAM_PATH,
  type AckBody,
  type ErrorBody,
} from '../../operator/push/protocol.ts';
import { HEADER_INSTANCE, SPEND_PATH, type SpendReportAnswer } from '../../operator/push/spend-protocol.ts';

export interface ConnectionOptions {
  operatorUrl: string;
  caFile?: string;
  tokenFile: string;
  namespace: string;
  pod: string;
  /** No byte (not even a ping) for this long means the stream is dead. */
  idleTimeoutMs: number;
  /** This sidecar process's id (fleet budgets: leases are per process). */
  instance?: string;
}

/** The server answered, but refused (status and its JSON error). */
export class StreamRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'StreamRefused';
    this.status = status;
  }
}

export class Connection {
  readonly #o: ConnectionOptions;
  readonly #agent: Agent;

  private constructor(opts: ConnectionOptions, agent: Agent) {
    this.#o = opts;
    this.#agent = agent;
  }

  static async open(opts: ConnectionOptions): Promise<Connection> {
    const ca = opts.caFile ? await readFile(opts.caFile, 'utf8') : undefined;
    const agent = new Agent({
      connect: { ...(ca !== undefined && { ca }), timeout: 10_000 },
      headersTimeout: 15_000,
      bodyTimeout: opts.idleTimeoutMs,
    });
    return new Connection(opts, agent);
  }

  /** Streams events until the server ends the stream or it fails; `signal` stops it. */
  async stream(
    have: { version: string | undefined; revision: number },
    onEvent: (e: EventSourceMessage) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await request(new URL(STREAM_PATH, this.#o.operatorUrl), {
      method: 'GET',
      dispatcher: this.#agent,
      signal,
      headers: {
        ...(await this.#authHeaders()),
        accept: 'text/event-stream',
        [HEADER_HAVE]: have.version ?? '',
        [HEADER_REVISION]: String(have.revision),
        ...(this.#o.instance !== undefined && { [HEADER_INSTANCE]: this.#o.instance }),
      },
    });
    if (res.statusCode !== 200) throw new StreamRefused(res.statusCode, await errorMessage(res.body));
    let queue = Promise.resolve();
    let failed: Error | undefined;
    const parser = createParser({
      onEvent: (e) => {
        queue = queue
          .then(() => onEvent(e))
          .catch((err: unknown) => void (failed ??= err instanceof Error ? err : new Error(String(err))));
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (failed !== undefined) break;
      }
    } finally {
      // Also when aborted: a snapshot being loaded, saved and ACKed is finished before we return.
      await queue;
    }
    if (failed !== undefined) throw failed;
  }

  /** Posts an ACK or NACK; failures are returned, not thrown: the stream goes on either way. */
  async ack(body: AckBody): Promise<string | undefined> {
    try {
      const res = await request(new URL(ACK_PATH, this.#o.operatorUrl), {
        method: 'POST',
        dispatcher: this.#agent,
        headers: { ...(await this.#authHeaders()), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.statusCode === 200) {
        await res.body.dump();
        return undefined;
      }
      return `${res.statusCode}: ${await errorMessage(res.body)}`;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Posts a spend report; the answer, or what went wrong (never thrown). */
  async spend(body: unknown): Promise<SpendReportAnswer | string> {
    try {
      const res = await request(new URL(SPEND_PATH, this.#o.operatorUrl), {
        method: 'POST',
        dispatcher: this.#agent,
        headers: { ...(await this.#authHeaders()), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.statusCode === 200) return (await res.body.json()) as SpendReportAnswer;
      return `${res.statusCode}: ${await errorMessage(res.body)}`;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }

  async #authHeaders(): Promise<Record<string, string>> {
    let token;
    try {
      token = (await readFile(this.#o.tokenFile, 'utf8')).trim();
    } catch (e) {
      throw new Error(`cannot read the ServiceAccount token at ${this.#o.tokenFile}`, { cause: e });
    }
    if (!token) throw new Error(`the ServiceAccount token file ${this.#o.tokenFile} is empty`);
    return { authorization: `Bearer ${token}`, [HEADER_POD]: `${this.#o.namespace}/${this.#o.pod}` };
  }
}

async function errorMessage(body: { text(): Promise<string> }): Promise<string> {
  const text = (await body.text().catch(() => '')).slice(0, 2000);
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    return `${error.code}: ${error.message}`;
  } catch {
    return text || '(no body)';
  }
}
