// A stand-in for the apiserver's list and watch endpoints, over real HTTP, for in-process tests of the
// ClusterCache with the real client-node Watch: objects by resource plural, lists that can be made slow
// (listing every Secret of a big cluster takes a while), and watch events sent when a test edits them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export class FakeApiserver {
  readonly objects = new Map<string, FakeObject[]>();
  /** Extra time a list of this plural takes. */
  readonly listDelayMs = new Map<string, number>();
  readonly #watchers = new Map<string, Set<ServerResponse>>();
  readonly #server: Server;
  #rv = 100;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Adds or replaces an object (by namespace and name), as a watch event when `announce` is set. */
  put(plural: string, obj: FakeObject, announce = true): void {
    const list = this.objects.get(plural) ?? [];
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    const i = list.findIndex((o) => sameKey(o, obj));
    const type = i >= 0 ? 'MODIFIED' : 'ADDED';
    if (i >= 0) list[i] = stored;
    else list.push(stored);
    this.objects.set(plural, list);
    if (announce) this.#send(plural, type, stored);
  }

  delete(plural: string, obj: FakeObject): void {
    const list = this.objects.get(plural) ?? [];
    const i = list.findIndex((o) => sameKey(o, obj));
    if (i < 0) return;
    const [gone] = list.splice(i, 1);
    this.#send(plural, 'DELETED', {
      ...gone,
      metadata: { ...gone?.metadata, resourceVersion: String(++this.#rv) },
    });
  }

  #send(plural: string, type: string, object: unknown): void {
    for (const w of this.#watchers.get(plural) ?? []) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const plural = url.pathname.split('/').pop() ?? '';
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      const set = this.#watchers.get(plural) ?? new Set<ServerResponse>();
      this.#watchers.set(plural, set.add(res));
      req.on('close', () => set.delete(res));
      return;
    }
    const delay = this.listDelayMs.get(plural) ?? 0;
    if (delay > 0) await sleep(delay);
    // The list as it is when the answer goes out: what a slow list of the real apiserver returns too.
    const items = this.objects.get(plural) ?? [];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items, metadata: { resourceVersion: String(this.#rv) } }));
  }
}

const sameKey = (a: FakeObject, b: FakeObject) =>
  a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
