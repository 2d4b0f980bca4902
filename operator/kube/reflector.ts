// List + watch one resource into a filtered, projected in-memory store. Built on client-node's Watch
// rather than its ListWatch informer because ListWatch stops for good on any non-410 error (it only
// calls the error callbacks), keeps every object it sees (every Secret of the cluster, for us), and
// cannot say whether its cache has synced. Here: any watch failure → backoff with jitter → full relist;
// the store keeps only what `project` returns, so unreferenced Secrets never stay in memory.
import type { Watch } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions, sleep, withTimeout } from './backoff.ts';
import { errorText, httpStatusOf, type Logger, silentLogger } from './log.ts';
import { type RawObject, Store } from './store.ts';

export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continue?: string | undefined;
}

export interface ReflectorOptions<T> {
  /** Resource name for logs and metrics, e.g. "pods". */
  resource: string;
  watch: Pick<Watch, 'watch'>;
  /** Watch path, e.g. /api/v1/pods. */
  path: string;
  listPage: (continueToken: string | undefined) => Promise<ListPage>;
  /** What to keep of an object, or undefined to keep nothing of it; `previous` is what is kept now. */
  project: (raw: RawObject, previous: T | undefined) => T | undefined;
  /** Called for every kept object that was added, changed or removed. */
  onChange: (namespace: string, name: string) => void;
  /** A watch failed and the reflector will relist (the watch-restart metric). */
  onRestart?: (reason: string) => void;
  backoff?: BackoffOptions;
  log?: Logger;
}

/** How one watch connection ended. */
interface WatchEnd {
  error: unknown;
  events: number;
  livedMs: number;
}

const HEALTHY_WATCH_MS = 5_000;
const LIST_TIMEOUT_MS = 60_000;

export class Reflector<T> {
  readonly store = new Store<T>();
  readonly #o: ReflectorOptions<T>;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #resourceVersion = '';
  #needList = true;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #current: AbortController | undefined;
  #interrupt: 'resync' | 'inject' | undefined;
  #gone = false;
  #running: Promise<void> | undefined;
  /** Relists begun so far, and who waits for one that begins after a given count to complete. */
  #relistsBegun = 0;
  #relistWaiters: { after: number; resolve: () => void }[] = [];

  constructor(opts: ReflectorOptions<T>) {
    this.#o = opts;
    this.#backoff = new Backoff(opts.backoff ?? { baseMs: 500, maxMs: 30_000 });
    this.#log = opts.log ?? silentLogger;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#current?.abort();
    await this.#running;
    for (const w of this.#relistWaiters.splice(0)) w.resolve();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  get started(): boolean {
    return this.#running !== undefined;
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /**
   * Relists now, without backoff: what `project` keeps has changed (e.g. a Secret became referenced).
   * Resolves once a relist that began after this call has completed (a relist already under way may
   * have passed the object before `project` wanted it), or once the reflector stops.
   */
  resync(): Promise<void> {
    const done = new Promise<void>((resolve) =>
      this.#relistWaiters.push({ after: this.#relistsBegun, resolve }),
    );
    this.#interruptWatch('resync');
    return done;
  }

  /** Fails the current watch as a broken connection would: for tests of the recovery path. */
  injectWatchError(): void {
    this.#interruptWatch('inject');
  }

  #interruptWatch(kind: 'resync' | 'inject'): void {
    if (this.#interrupt !== 'inject') this.#interrupt = kind;
    if (this.#current) this.#current.abort();
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      try {
        if (this.#needList) await this.#relist();
        const end = await this.#watchOnce();
        if (stopped.aborted) break;
        await this.#afterWatch(end);
      } catch (err) {
        if (stopped.aborted) break;
        this.#needList = true;
        this.#o.onRestart?.('list-failed');
        const delay = this.#backoff.next();
        this.#log.warn('list failed; retrying', {
          resource: this.#o.resource,
          delayMs: Math.round(delay),
          error: errorText(err),
        });
        await sleep(delay, stopped);
      }
    }
  }

  async #afterWatch(end: WatchEnd): Promise<void> {
    const interrupt = this.#interrupt;
    this.#interrupt = undefined;
    if (end.events > 0 || end.livedMs >= HEALTHY_WATCH_MS) this.#backoff.reset();
    if (interrupt === 'resync') {
      this.#needList = true;
      return;
    }
    const gone = this.#gone || httpStatusOf(end.error) === 410;
    this.#gone = false;
    const timedOut = end.error instanceof Error && end.error.name === 'TimeoutError';
    if (interrupt === undefined && !gone && (end.error == null || timedOut)) {
      // The server or the client's idle timer closed a healthy watch: resume from the last version.
      if (end.livedMs < HEALTHY_WATCH_MS && end.events === 0)
        await sleep(this.#backoff.next(), this.#stop.signal);
      return;
    }
    this.#needList = true;
    const reason = interrupt === 'inject' ? 'injected' : gone ? 'gone' : 'error';
    this.#o.onRestart?.(reason);
    const delay = this.#backoff.next();
    this.#log.warn('watch failed; relisting after backoff', {
      resource: this.#o.resource,
      reason,
      delayMs: Math.round(delay),
      ...(end.error != null && { error: errorText(end.error) }),
    });
    await sleep(delay, this.#stop.signal);
  }

  async #relist(): Promise<void> {
    const begun = ++this.#relistsBegun;
    const fresh = new Store<T>();
    let token: string | undefined;
    let resourceVersion: string;
    do {
      const page = await withTimeout(this.#o.listPage(token), LIST_TIMEOUT_MS, `listing ${this.#o.resource}`);
      for (const item of page.items) fresh.putRaw(item as RawObject, this.#o.project, this.store);
      resourceVersion = page.resourceVersion;
      token = page.continue || undefined;
    } while (token !== undefined && !this.#stop.signal.aborted);
    const touched = this.store.replaceWith(fresh);
    this.#resourceVersion = resourceVersion;
    this.#needList = false;
    for (const [ns, name] of touched) this.#o.onChange(ns, name);
    const waiting = this.#relistWaiters;
    this.#relistWaiters = waiting.filter((w) => w.after >= begun);
    for (const w of waiting) if (w.after < begun) w.resolve();
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /** One watch connection, from #resourceVersion until the stream ends for any reason. */
  async #watchOnce(): Promise<WatchEnd> {
    const started = performance.now();
    let events = 0;
    let finish: (error: unknown) => void = () => {};
    const ended = new Promise<unknown>((resolve) => (finish = resolve));
    const query = { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true };
    const onEvent = (type: string, obj: unknown) => {
      events++;
      this.#apply(type, obj as RawObject);
    };
    try {
      this.#current = await this.#o.watch.watch(this.#o.path, query, onEvent, finish);
      // An interrupt that arrived while connecting must still end this watch.
      if (this.#interrupt !== undefined || this.#stop.signal.aborted) this.#current.abort();
    } catch (err) {
      finish(err);
    }
    const error = await ended;
    this.#current = undefined;
    return { error, events, livedMs: performance.now() - started };
  }

  #apply(type: string, obj: RawObject): void {
    if (type === 'ERROR') {
      // The apiserver ends the stream after an ERROR; 410 means our resourceVersion is too old.
      if (httpStatusOf(obj) === 410) this.#gone = true;
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const changed = type === 'DELETED' ? this.store.deleteRaw(obj) : this.store.putRaw(obj, this.#o.project);
    if (changed) this.#o.onChange(changed[0], changed[1]);
  }
}
