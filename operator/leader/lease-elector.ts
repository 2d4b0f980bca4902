// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the holder
// renews every retry period; a candidate takes the Lease once it has seen no renewal for a full lease
// duration, measured on its own clock (so clock skew between replicas does not matter); the holder
// stops acting as leader when it could not renew within the renew deadline, which is shorter than the
// lease duration, so it has stopped before anyone else may start. The Lease also carries the highest
// snapshot revision issued, so a new leader continues above its predecessor.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { sleep, withTimeout } from '../kube/backoff.ts';
import { errorText, type Logger, silentLogger } from '../kube/log.ts';

export const REVISION_ANNOTATION = 'turnout.dev/revision';

export interface RevisionFloor {
  readonly highest: number;
  observe(revision: number): void;
}

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name?: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the Lease up on stop() so a successor need not wait out the lease duration (default true). */
  releaseOnStop?: boolean;
  revisions?: RevisionFloor;
  log?: Logger;
}

export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #o: Required<Omit<LeaderElectorOptions, 'kubeConfig' | 'revisions' | 'log'>>;
  readonly #revisions: RevisionFloor | undefined;
  readonly #log: Logger;
  readonly #listeners = new Set<(leader: boolean) => void>();
  readonly #stop = new AbortController();
  #leader = false;
  #lastRenew = 0;
  /** The Lease record as last seen, and when (our monotonic clock) it last changed. */
  #observed = { record: '', at: 0 };
  #running: Promise<void> | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#o = {
      namespace: opts.namespace,
      name: opts.name ?? 'turnout-operator',
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnStop: opts.releaseOnStop ?? true,
    };
    this.#revisions = opts.revisions;
    this.#log = opts.log ?? silentLogger;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** True only while the Lease is ours and was renewed within the renew deadline. */
  isLeader(): boolean {
    return this.#leader && performance.now() - this.#lastRenew < this.#o.renewDeadlineMs;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops leading at once (no write after this), then hands the Lease over. */
  async stop(): Promise<void> {
    const wasLeader = this.#leader;
    this.#stop.abort();
    this.#set(false);
    await this.#running;
    if (wasLeader && this.#o.releaseOnStop) await this.#release();
  }

  /** Reads the Lease once, for the revision floor, before this replica publishes anything. */
  async observe(): Promise<void> {
    try {
      await this.#read();
    } catch (err) {
      this.#log.warn('could not read the lease', { error: errorText(err) });
    }
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      // A hung request must not stall the loop: past the renew deadline we could not act on it anyway.
      const outcome = await withTimeout(
        this.#tryAcquireOrRenew(),
        this.#o.renewDeadlineMs,
        'lease update',
      ).catch(() => 'failed' as const);
      if (this.#stop.signal.aborted) break;
      if (outcome === 'held') {
        this.#lastRenew = performance.now();
        this.#set(true);
      } else if (
        this.#leader &&
        (outcome === 'taken' || performance.now() - this.#lastRenew >= this.#o.renewDeadlineMs)
      ) {
        this.#log.warn('leader lease lost', { identity: this.#o.identity, outcome });
        this.#set(false);
      }
      // Candidates jitter so that replicas started together do not contend in lockstep.
      const jitter = this.#leader ? 1 : 1 + Math.random() * 0.2;
      await sleep(this.#o.retryPeriodMs * jitter, this.#stop.signal);
    }
  }

  #set(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    this.#log.info(leader ? 'became leader' : 'stopped leading', { identity: this.#o.identity });
    for (const l of this.#listeners) l(leader);
  }

  /** held: the Lease is ours now; taken: someone else holds it; failed: we could not tell. */
  async #tryAcquireOrRenew(): Promise<'held' | 'taken' | 'failed'> {
    const { name, namespace, identity } = this.#o;
    try {
      const lease = await this.#read();
      if (!lease) {
        await this.#api.createNamespacedLease({ namespace, body: this.#record(undefined) });
        return 'held';
      }
      const holder = lease.spec?.holderIdentity ?? '';
      const record = `${holder}|${String(lease.spec?.renewTime)}|${lease.metadata?.resourceVersion}`;
      if (record !== this.#observed.record) this.#observed = { record, at: performance.now() };
      // The holder's own promise (leaseDurationSeconds) decides when its Lease lapses, not ours.
      const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000 || this.#o.leaseDurationMs;
      const expired = holder === '' || performance.now() - this.#observed.at >= durationMs;
      if (holder !== identity && !expired) return 'taken';
      await this.#api.replaceNamespacedLease({ name, namespace, body: this.#record(lease) });
      return 'held';
    } catch (err) {
      // 409: another candidate won the race for this version of the Lease.
      if (codeOf(err) !== 409) this.#log.warn('lease update failed', { identity, error: errorText(err) });
      return 'failed';
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      const published = Number(lease.metadata?.annotations?.[REVISION_ANNOTATION]);
      if (Number.isSafeInteger(published)) this.#revisions?.observe(published);
      return lease;
    } catch (err) {
      if (codeOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** The Lease as we want it: held by us, renewed now, carrying the highest revision issued. */
  #record(current: V1Lease | undefined): V1Lease {
    const now = new V1MicroTime();
    const ours = current?.spec?.holderIdentity === this.#o.identity;
    const annotations = { ...current?.metadata?.annotations };
    if (this.#revisions) annotations[REVISION_ANNOTATION] = String(this.#revisions.highest);
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...current?.metadata, name: this.#o.name, namespace: this.#o.namespace, annotations },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: ours && current?.spec?.acquireTime ? current.spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (current && !ours ? 1 : 0),
      },
    };
  }

  async #release(): Promise<void> {
    try {
      const lease = await this.#read();
      if (lease?.spec?.holderIdentity !== this.#o.identity) return;
      const body = this.#record(lease);
      body.spec = { ...body.spec, holderIdentity: '', leaseDurationSeconds: 1 };
      await this.#api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body });
    } catch (err) {
      this.#log.warn('could not release the lease', { error: errorText(err) });
    }
  }
}

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}
