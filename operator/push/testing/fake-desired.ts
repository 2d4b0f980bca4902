// Test-only: an in-memory DesiredState fed from YAML through the real compiler, and a scripted token
// reviewer standing in for TokenReview.
import { randomBytes } from 'node:crypto';
import { parseManifests } from '../../../api/index.ts';
import { compile, type CompiledNamespace } from '../../compile/index.ts';
import type { DesiredState, PodIdentity } from '../../contract.ts';
import type { TokenReviewer, TokenReviewResult } from '../token-review.ts';

export class FakeDesiredState implements DesiredState {
  readonly #compiled = new Map<string, CompiledNamespace>();
  readonly #pods = new Map<string, PodIdentity>();
  readonly #listeners = new Set<(ns: string) => void>();
  #revision = 0;
  readonly revisions = new Map<string, number>();

  compiled(namespace: string): CompiledNamespace | undefined {
    return this.#compiled.get(namespace);
  }
  pod(namespace: string, name: string): PodIdentity | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }
  revision(namespace: string): number {
    return this.revisions.get(namespace) ?? 0;
  }
  onChange(listener: (namespace: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Compiles the YAML with the real compiler and publishes every namespace in it. */
  apply(yaml: string): void {
    const m = parseManifests(yaml, 'test.yaml');
    if (m.diagnostics.length > 0) throw new Error(JSON.stringify(m.diagnostics));
    const result = compile(m.providers, m.policies, m.secrets);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new Error(JSON.stringify(errors));
    for (const [ns, c] of result.namespaces) {
      this.#compiled.set(ns, c);
      this.#changed(ns);
    }
  }

  addPod(
    namespace: string,
    name: string,
    labels: Record<string, string> = {},
    uid: string = randomUid(),
  ): PodIdentity {
    const pod = { namespace, name, uid, labels };
    this.#pods.set(`${namespace}/${name}`, pod);
    this.#changed(namespace);
    return pod;
  }

  removePod(namespace: string, name: string): void {
    this.#pods.delete(`${namespace}/${name}`);
    this.#changed(namespace);
  }

  #changed(ns: string): void {
    this.revisions.set(ns, ++this.#revision);
    for (const l of this.#listeners) l(ns);
  }
}

/** Tokens are opaque random strings mapped to what a TokenReview would say about them. */
export class FakeReviewer {
  readonly #tokens = new Map<string, TokenReviewResult>();
  calls = 0;
  failing = false;

  readonly review: TokenReviewer = (token) => {
    this.calls++;
    if (this.failing) return Promise.reject(new Error(`apiserver unavailable (token ${token})`));
    return Promise.resolve(this.#tokens.get(token) ?? { authenticated: false, error: 'unknown token' });
  };

  /** A pod-bound token for `pod`; `bound: false` gives a plain ServiceAccount token. */
  tokenFor(pod: PodIdentity, opts: { bound?: boolean } = {}): string {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    this.#tokens.set(token, {
      authenticated: true,
      username: `system:serviceaccount:${pod.namespace}:default`,
      namespace: pod.namespace,
      ...(opts.bound !== false && { podName: pod.name, podUid: pod.uid }),
    });
    return token;
  }
}

export const randomUid = () => crypto.randomUUID();
