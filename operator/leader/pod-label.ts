// Marks this replica's own pod with turnout.dev/leader=true|false as its leadership changes. Sidecar
// streams are served by the leader only (its status must count every sidecar), so the chart's push
// Service selects the pod labelled true: a sidecar always lands on the replica that serves it, and
// after a handover the endpoints follow the Lease instead of sidecars retrying 503s from a follower.
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Backoff, sleep } from '../kube/backoff.ts';
import { errorText, type Logger } from '../kube/log.ts';

export const LEADER_LABEL = 'turnout.dev/leader';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface LeaderPodLabelOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** This replica's pod (the downward API's metadata.name). */
  podName: string;
  log: Logger;
  backoff?: { baseMs: number; maxMs: number };
}

/**
 * Converges the label to the latest leadership state, retrying with backoff: a patch that fails must
 * not leave a follower selected (or the leader unselected) for longer than the apiserver is away.
 */
export class LeaderPodLabel {
  readonly #o: LeaderPodLabelOptions;
  readonly #api: CoreV1Api;
  readonly #stop = new AbortController();
  #want = false;
  /** What the pod carries, as far as this process knows (undefined: not written yet). */
  #written: boolean | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: LeaderPodLabelOptions) {
    this.#o = opts;
    this.#api = opts.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Records the wanted state and makes sure a writer is converging on it. */
  set(leader: boolean): Promise<void> {
    this.#want = leader;
    this.#running ??= this.#converge().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Writes false (a graceful stop hands the endpoint over before the Lease), then stops retrying. */
  async stop(): Promise<void> {
    const grace = new AbortController();
    await Promise.race([this.set(false), sleep(2_000, grace.signal)]);
    grace.abort();
    this.#stop.abort();
    await this.#running;
  }

  async #converge(): Promise<void> {
    const backoff = new Backoff(this.#o.backoff ?? { baseMs: 200, maxMs: 5_000 });
    while (this.#written !== this.#want && !this.#stop.signal.aborted) {
      const want = this.#want;
      try {
        await this.#label(this.#o.podName, want);
        if (want) await this.#clearOthers();
        this.#written = want;
        this.#o.log.info('leader label set', { pod: this.#o.podName, leader: want });
      } catch (err) {
        this.#o.log.warn('could not label the operator pod', {
          pod: this.#o.podName,
          error: errorText(err),
        });
        await sleep(backoff.next(), this.#stop.signal);
      }
    }
  }

  #label(name: string, leader: boolean): Promise<unknown> {
    const body = { metadata: { labels: { [LEADER_LABEL]: String(leader) } } };
    return this.#api.patchNamespacedPod({ name, namespace: this.#o.namespace, body }, MERGE);
  }

  /**
   * A predecessor that was killed, or cut off from the apiserver, could not take its label off: the new
   * leader does, so the Service never selects a replica that refuses streams.
   */
  async #clearOthers(): Promise<void> {
    const pods = await this.#api.listNamespacedPod({
      namespace: this.#o.namespace,
      labelSelector: `${LEADER_LABEL}=true`,
    });
    for (const pod of pods.items) {
      const name = pod.metadata?.name;
      if (name && name !== this.#o.podName) {
        await this.#label(name, false);
        this.#o.log.info('leader label cleared', { pod: name });
      }
    }
  }
}
