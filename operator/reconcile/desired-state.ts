// The DesiredState the push server serves from: the latest compilation of each namespace, with a
// revision that moves only when that compilation's content does (a no-op reconcile pushes nothing).
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../api/index.ts';
import type { CompiledNamespace } from '../compile/index.ts';
import type { DesiredState, PodIdentity } from '../contract.ts';
import type { RevisionClock } from './revision-clock.ts';

interface Entry {
  compiled: CompiledNamespace | undefined;
  fingerprint: string;
  revision: number;
}

export class DesiredStateStore implements DesiredState {
  readonly #clock: RevisionClock;
  readonly #pods: (namespace: string, name: string) => PodIdentity | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(namespace: string) => void>();
  readonly #onRevision: (namespace: string, revision: number) => void;

  constructor(
    clock: RevisionClock,
    pods: (namespace: string, name: string) => PodIdentity | undefined,
    onRevision: (namespace: string, revision: number) => void = () => {},
  ) {
    this.#clock = clock;
    this.#pods = pods;
    this.#onRevision = onRevision;
  }

  compiled(namespace: string): CompiledNamespace | undefined {
    return this.#entries.get(namespace)?.compiled;
  }

  pod(namespace: string, name: string): PodIdentity | undefined {
    return this.#pods(namespace, name);
  }

  revision(namespace: string): number {
    return this.#entries.get(namespace)?.revision ?? 0;
  }

  onChange(listener: (namespace: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a namespace's compilation; bumps its revision and notifies only when the content changed. */
  set(namespace: string, compiled: CompiledNamespace | undefined): boolean {
    const fingerprint = fingerprintOf(compiled);
    const before = this.#entries.get(namespace);
    if (before?.fingerprint === fingerprint) return false;
    if (!before && compiled === undefined) return false;
    const revision = this.#clock.next(before?.revision ?? 0);
    this.#entries.set(namespace, { compiled, fingerprint, revision });
    this.#onRevision(namespace, revision);
    this.notify(namespace);
    return true;
  }

  /** Tells listeners a namespace may have changed (its pods did, for instance). */
  notify(namespace: string): void {
    for (const l of this.#listeners) {
      try {
        l(namespace);
      } catch {
        // One failing listener must not starve the others of the change.
      }
    }
  }
}

/**
 * A hash of everything a snapshot can be made of, API keys included so a rotated Secret gives a new
 * revision. Only the hash is kept; the keys themselves never leave `compiled`. Hashed piece by piece:
 * each policy's canonical text is the one the workload snapshots reuse, and no text of the whole
 * namespace (megabytes at 1,000 policies) is built or kept.
 */
function fingerprintOf(compiled: CompiledNamespace | undefined): string {
  if (!compiled) return 'none';
  const hash = createHash('sha256');
  // Canonical JSON never contains a raw newline, so it separates the pieces unambiguously.
  for (const p of compiled.policies) hash.update(canonicalJson(p)).update('\n');
  hash.update('providers\n');
  for (const [name, c] of compiled.providers) {
    hash.update(
      `${JSON.stringify(name)}\n${canonicalJson(c.provider)}\n${JSON.stringify(c.apiKey ?? null)}\n`,
    );
  }
  return hash.digest('hex');
}
