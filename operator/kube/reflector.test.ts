// The reflector's recovery paths with a scripted watch: what a real apiserver rarely does on demand
// (410 Gone, a reset mid-stream, a failing list) happens here exactly when the test says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ListPage, Reflector } from './reflector.ts';
import type { RawObject } from './store.ts';

type Done = (err: unknown) => void;
type OnEvent = (type: string, obj: unknown) => void;

/** The apiserver side: a set of objects, and the watch connections open against it. */
class FakeServer {
  objects = new Map<string, RawObject>();
  rv = 1;
  lists = 0;
  listsBegun = 0;
  failLists = 0;
  /** When set, lists wait for it (a slow list over a big cluster). */
  listGate: Promise<void> | undefined;
  watches: { query: Record<string, unknown>; send: OnEvent; end: Done }[] = [];

  put(name: string, extra: Record<string, unknown> = {}): RawObject {
    const obj = { metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv) }, ...extra };
    this.objects.set(name, obj);
    return obj;
  }

  listPage = async (): Promise<ListPage> => {
    this.listsBegun++;
    await this.listGate;
    this.lists++;
    if (this.failLists-- > 0) throw new Error('connection refused');
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  };

  watch = {
    watch: (_path: string, query: Record<string, unknown>, send: OnEvent, done: Done) => {
      const controller = new AbortController();
      let ended = false;
      const end: Done = (err) => {
        if (ended) return;
        ended = true;
        done(err);
      };
      controller.signal.addEventListener('abort', () => end(new DOMException('aborted', 'AbortError')));
      this.watches.push({ query, send, end });
      return Promise.resolve(controller);
    },
  };

  get current() {
    const w = this.watches.at(-1);
    assert.ok(w, 'a watch is open');
    return w;
  }
}

function reflect(server: FakeServer, keep: (raw: RawObject) => boolean = () => true) {
  const changes: string[] = [];
  const restarts: string[] = [];
  const r = new Reflector<string>({
    resource: 'things',
    watch: server.watch,
    path: '/things',
    listPage: server.listPage,
    project: (raw) => (keep(raw) ? (raw.metadata?.name ?? '') : undefined),
    onChange: (_ns, name) => changes.push(name),
    onRestart: (reason) => restarts.push(reason),
    backoff: { baseMs: 1, maxMs: 5 },
  });
  return { r, changes, restarts };
}

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
  assert.ok(check(), what);
};

describe('Reflector', () => {
  it('relists after 410 Gone, noticing objects deleted while it was not watching', async () => {
    const server = new FakeServer();
    server.put('a');
    server.put('b');
    const { r, changes, restarts } = reflect(server);
    r.start();
    await r.waitForSync();
    assert.deepEqual(r.store.list('ns').sort(), ['a', 'b']);
    await until('watching', () => server.watches.length === 1);
    assert.equal(server.current.query['resourceVersion'], String(server.rv));

    server.current.send('ADDED', server.put('c'));
    assert.deepEqual(r.store.list('ns').sort(), ['a', 'b', 'c']);
    server.objects.delete('a');
    server.current.send('ERROR', { kind: 'Status', code: 410 });
    server.current.end(null);
    await until('relisted', () => server.lists === 2 && server.watches.length === 2);
    assert.deepEqual(restarts, ['gone']);
    assert.deepEqual(r.store.list('ns').sort(), ['b', 'c']);
    assert.ok(changes.includes('a'), 'the deletion was reported');
    await r.stop();
  });

  it('backs off and relists when the connection breaks and the first lists fail', async () => {
    const server = new FakeServer();
    server.put('a');
    const { r, restarts } = reflect(server);
    r.start();
    await until('watching', () => server.watches.length === 1);
    server.failLists = 2;
    server.put('during-outage');
    server.current.end(new TypeError('terminated'));
    await until('recovered', () => server.watches.length === 2);
    assert.deepEqual(restarts, ['error', 'list-failed', 'list-failed']);
    assert.deepEqual(r.store.list('ns').sort(), ['a', 'during-outage']);
    assert.ok(r.hasSynced());
    await r.stop();
  });

  it('resumes from the last resourceVersion when the server merely closes a healthy watch', async () => {
    const server = new FakeServer();
    const { r, restarts } = reflect(server);
    r.start();
    await until('watching', () => server.watches.length === 1);
    server.current.send('BOOKMARK', { metadata: { resourceVersion: '99' } });
    server.current.end(null);
    await until('rewatched', () => server.watches.length === 2);
    assert.equal(server.current.query['resourceVersion'], '99');
    assert.equal(server.lists, 1, 'no relist');
    assert.deepEqual(restarts, []);
    await r.stop();
  });

  it('keeps only what the projection keeps, and relists on resync() when that widens', async () => {
    const server = new FakeServer();
    server.put('wanted');
    server.put('other', { data: { apiKey: 'c2VjcmV0' } });
    const wanted = new Set(['wanted']);
    const { r } = reflect(server, (raw) => wanted.has(raw.metadata?.name ?? ''));
    r.start();
    await r.waitForSync();
    assert.deepEqual(r.store.list(), ['wanted']);
    wanted.add('other');
    await r.resync();
    assert.equal(server.lists, 2);
    assert.equal(r.store.size, 2, 'resync() resolves once the relist holds what the projection now keeps');
    await r.stop();
  });

  it('resolves resync() only after a relist that began after the call, not one already under way', async () => {
    const server = new FakeServer();
    server.put('a');
    const { r } = reflect(server);
    r.start();
    await r.waitForSync();
    await until('watching', () => server.watches.length === 1);
    // The next list is slow: a resync asked for while it runs must wait for the one after it.
    let releaseList: () => void = () => {};
    server.listGate = new Promise<void>((resolve) => (releaseList = resolve));
    const first = r.resync();
    await until('the relist began', () => server.listsBegun === 2);
    let secondDone = false;
    const second = r.resync().then(() => (secondDone = true));
    releaseList();
    await first;
    assert.equal(server.lists, 2);
    await second;
    assert.ok(secondDone);
    assert.equal(server.lists, 3, 'the resync asked for mid-relist waited for a relist of its own');
    await r.stop();
  });
});

describe('podProjector', () => {
  it('leaves out pods the webhook never injects: annotation opt-out and hostNetwork', async () => {
    const { podProjector } = await import('./objects.ts');
    const project = podProjector(() => true);
    const pod = (extra: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
      metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: {}, annotations },
      ...extra,
    });
    assert.ok(project(pod({})));
    assert.equal(project(pod({}, { 'turnout.dev/inject': 'false' })), undefined);
    assert.equal(project(pod({ spec: { hostNetwork: true } })), undefined);
  });

  it('tells a pod running the injected sidecar from one that only carries the labels', async () => {
    const { podProjector } = await import('./objects.ts');
    const project = podProjector(() => true);
    const pod = (spec: Record<string, unknown>) => ({
      metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'web' } },
      spec,
    });
    // Created before the namespace opted in (or while the webhook was down): selected, but no sidecar.
    assert.equal(project(pod({ containers: [{ name: 'app' }] }))?.sidecar, false);
    const sidecar = { name: 'turnout-proxy', restartPolicy: 'Always' };
    assert.equal(project(pod({ containers: [{ name: 'app' }], initContainers: [sidecar] }))?.sidecar, true);
    assert.equal(project(pod({ containers: [{ name: 'app' }, { name: 'turnout-proxy' }] }))?.sidecar, true);
  });
});
