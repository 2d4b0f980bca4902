import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dialect } from './dialects/dialect.ts';
import { dialectFor } from './dialects/index.ts';
import { Reply } from './reply.ts';
import { respond, sendStatus } from './respond.ts';
import type { FakeProvider, FakeProviderOptions, RecordedRequest, StatusStep, Step } from './types.ts';
import { Waiters } from './waiters.ts';

const DEFAULT_STEP: Step = { kind: 'ok' };
// Longer than any client's idle timeout, so the fake never closes a kept-alive socket under a client.
const KEEP_ALIVE_MS = 65_000;

/** Starts a fake provider of one dialect on 127.0.0.1 and a free port. */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const fake = new FakeProviderServer(options);
  await fake.listen();
  return fake;
}

class FakeProviderServer implements FakeProvider {
  readonly dialect: FakeProvider['dialect'];
  readonly requests: RecordedRequest[] = [];
  #impl: Dialect;
  #server: Server;
  #record: boolean;
  #requireApiKey: boolean;
  #queue: Step[] = [];
  #default: Step = DEFAULT_STEP;
  #delayAllMs = 0;
  #count = 0;
  #port = 0;
  #closing = false;
  #cache = new Map<string, Buffer>();
  #waiters = new Waiters();

  constructor(options: FakeProviderOptions) {
    this.dialect = options.dialect;
    this.#impl = dialectFor(options);
    this.#record = options.record ?? true;
    this.#requireApiKey = options.requireApiKey ?? false;
    this.#server = createServer({ keepAlive: true, noDelay: true }, (req, res) => this.#receive(req, res));
    this.#server.keepAliveTimeout = KEEP_ALIVE_MS;
  }

  async listen(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  get port(): number {
    return this.#port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get url(): string {
    return this.origin + this.#impl.basePath;
  }

  get count(): number {
    return this.#count;
  }

  get pending(): number {
    return this.#queue.length;
  }

  script(steps: readonly Step[]): void {
    this.#queue.push(...steps);
  }

  onNext(step: Step): void {
    this.#queue.push(step);
  }

  setDefault(step: Step): void {
    this.#default = step;
  }

  delayAll(ms: number): void {
    this.#delayAllMs = ms;
  }

  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
    this.#count = 0;
    this.#default = DEFAULT_STEP;
    this.#delayAllMs = 0;
    this.#cache.clear();
  }

  waitFor(match: (request: RecordedRequest) => boolean, timeoutMs = 5_000): Promise<RecordedRequest> {
    const found = this.requests.find(match);
    return found !== undefined ? Promise.resolve(found) : this.#waiters.add(match, timeoutMs);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#waiters.rejectAll(new Error('fake provider closed'));
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      this.#handle(req, res, raw).catch((error: unknown) => {
        // A bug in the fake must not look like an upstream fault a test might be asserting on.
        console.error('fake provider failed to answer', error);
        res.destroy();
      });
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    this.#count += 1;
    const record = this.#recordOf(req, raw);
    const reply = new Reply(res);
    res.on('close', () => this.#settle(record, reply));
    if (this.#record) this.requests.push(record);
    const route = this.#impl.route(record.method, record.path);
    if (route === undefined) return this.#turnAway(notFound(record), record, reply);
    const refused = this.#refuse(record);
    if (refused !== undefined) return this.#turnAway(refused, record, reply);
    const ex = route.parse(isObject(record.body) ? record.body : {}, record.path, record.query);
    const step = route.scripted ? (this.#queue.shift() ?? this.#default) : DEFAULT_STEP;
    record.endpoint = route.endpoint;
    record.model = ex.model;
    record.stream = ex.stream;
    record.step = step.kind;
    this.#waiters.offer(record);
    if (this.#delayAllMs > 0 && !(await reply.pause(this.#delayAllMs))) return;
    await respond(step, { reply, dialect: this.#impl, route, ex, cache: this.#cache });
  }

  #turnAway(step: StatusStep, record: RecordedRequest, reply: Reply): Promise<void> {
    record.step = 'status';
    this.#waiters.offer(record);
    return sendStatus(step, { reply, dialect: this.#impl });
  }

  /** Refuses what the real API would before looking at the request: no key, a body that is not JSON, and
   * what the dialect's service refuses on its own terms (Azure: path, api-version, deployment). */
  #refuse(record: RecordedRequest): StatusStep | undefined {
    if (this.#requireApiKey && record.apiKey === undefined) return { kind: 'status', status: 401 };
    if (record.method === 'POST' && record.body === undefined) {
      return { kind: 'status', status: 400, message: 'We could not parse the JSON body of your request.' };
    }
    return this.#impl.refuse?.(record);
  }

  #recordOf(req: IncomingMessage, raw: Buffer): RecordedRequest {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    return {
      seq: this.#count,
      method: req.method ?? 'GET',
      path,
      query,
      headers: req.headers,
      body: parseJson(raw),
      bodyBytes: raw.length,
      receivedAt: Date.now(),
      endpoint: undefined,
      model: undefined,
      stream: false,
      apiKey: this.#impl.apiKey(req.headers, query.slice(1)),
      step: undefined,
      aborted: false,
      completed: false,
    };
  }

  #settle(record: RecordedRequest, reply: Reply): void {
    reply.markClosed();
    record.completed = reply.res.writableFinished;
    record.aborted = !record.completed && !reply.cutByFake && !this.#closing;
    this.#waiters.offer(record);
  }
}

function notFound(record: RecordedRequest): StatusStep {
  return { kind: 'status', status: 404, message: `Invalid URL (${record.method} ${record.path})` };
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
