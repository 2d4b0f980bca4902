// The last accepted version of each RoutingPolicy. When an edit is refused, sidecars keep running this
// version (as Istio keeps the last good config) instead of losing the policy. It lives in memory and,
// so that a restarted or newly elected operator keeps it too, in an annotation on the policy itself:
// readable by every replica through its informer, gone with the object, and no extra RBAC or objects.
import { z } from 'zod';
import { routingPolicySpec, type RoutingPolicy } from '../../api/index.ts';
import type { CachedPolicy } from '../kube/objects.ts';

export const LAST_ACCEPTED_ANNOTATION = 'turnout.dev/last-accepted';
/** Annotations share a 256 KiB budget per object; a bigger spec is only remembered in memory. */
const MAX_ANNOTATION_BYTES = 128 * 1024;

const stored = z.object({ generation: z.number().int(), spec: routingPolicySpec });

interface Remembered {
  uid: string;
  generation: number;
  policy: RoutingPolicy;
}

export class LastAccepted {
  readonly #byKey = new Map<string, Remembered>();

  remember(cached: CachedPolicy): void {
    if (!cached.valid) return;
    const { uid, generation } = cached.ref;
    this.#byKey.set(keyOf(cached), { uid, generation, policy: cached.valid });
  }

  /**
   * The newest accepted version up to the current generation, from memory or the annotation. It is the
   * current generation itself when that was accepted and no longer compiles: something it references
   * (a ModelProvider, a Secret) broke since.
   */
  recall(cached: CachedPolicy): RoutingPolicy | undefined {
    const mem = this.#byKey.get(keyOf(cached));
    const fromMemory =
      mem?.uid === cached.ref.uid && mem.generation <= cached.ref.generation ? mem : undefined;
    const fromAnnotation = decode(cached);
    const best =
      fromAnnotation && (!fromMemory || fromAnnotation.generation > fromMemory.generation)
        ? fromAnnotation
        : fromMemory;
    return best?.policy;
  }

  /** Forgets policies of `namespace` that no longer exist. */
  retain(namespace: string, present: ReadonlySet<string>): void {
    for (const key of this.#byKey.keys()) {
      const [ns, name] = key.split('/') as [string, string];
      if (ns === namespace && !present.has(name)) this.#byKey.delete(key);
    }
  }
}

/** The annotation value to write for an accepted policy, or undefined when it is already there or too big. */
export function annotationUpdate(cached: CachedPolicy): string | undefined {
  if (!cached.valid || parseAnnotation(cached)?.generation === cached.ref.generation) return undefined;
  const value = JSON.stringify({ generation: cached.ref.generation, spec: cached.valid.spec });
  return Buffer.byteLength(value) <= MAX_ANNOTATION_BYTES ? value : undefined;
}

function parseAnnotation(cached: CachedPolicy): z.infer<typeof stored> | undefined {
  const text = cached.annotations[LAST_ACCEPTED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const parsed = stored.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The annotated version up to the current generation (a newer one would be bogus). */
function decode(cached: CachedPolicy): Remembered | undefined {
  const data = parseAnnotation(cached);
  if (!data || data.generation > cached.ref.generation) return undefined;
  const { namespace, name, uid } = cached.ref;
  const policy: RoutingPolicy = {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: { name, namespace, uid, generation: data.generation },
    spec: data.spec,
  };
  return { uid, generation: data.generation, policy };
}

const keyOf = (c: CachedPolicy) => `${c.ref.namespace}/${c.ref.name}`;
