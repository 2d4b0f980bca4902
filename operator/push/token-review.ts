// Sidecar authentication: a projected ServiceAccount token (audience "turnout") checked with the
// apiserver's TokenReview. Successful reviews are cached briefly by token hash so a reconnect storm or
// a stream of ACKs does not become a stream of TokenReviews; failures are never cached.
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { TOKEN_AUDIENCE } from '../contract.ts';

export interface TokenReviewResult {
  authenticated: boolean;
  username?: string;
  /** Set for pod-bound tokens only (from the review's user.extra). */
  podName?: string;
  podUid?: string;
  /** The ServiceAccount's namespace, from `system:serviceaccount:<ns>:<name>`. */
  namespace?: string;
  /** The apiserver's reason for refusing, when it gives one (never contains the token). */
  error?: string;
}

export type TokenReviewer = (token: string) => Promise<TokenReviewResult>;

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';

/** TokenReview against the apiserver of `kubeConfig`, for the "turnout" audience only. */
export function kubeTokenReviewer(kubeConfig: KubeConfig): TokenReviewer {
  const api = kubeConfig.makeApiClient(AuthenticationV1Api);
  return async (token) => {
    const review = await api.createTokenReview({
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [TOKEN_AUDIENCE] },
      },
    });
    const status = review.status;
    // The apiserver answers with the audiences the token is valid for; "turnout" must be among them,
    // or the token was minted for something else and is being replayed here.
    const audienceOk = status?.audiences === undefined || status.audiences.includes(TOKEN_AUDIENCE);
    if (status?.authenticated !== true || !audienceOk)
      return { authenticated: false, error: status?.error ?? 'token not valid for audience turnout' };
    const username = status.user?.username ?? '';
    const extra = status.user?.extra ?? {};
    return {
      authenticated: true,
      username,
      podName: extra[POD_NAME]?.[0],
      podUid: extra[POD_UID]?.[0],
      namespace: /^system:serviceaccount:([^:]+):[^:]+$/.exec(username)?.[1],
    };
  };
}

interface CacheEntry {
  result: Promise<TokenReviewResult>;
  expiresAt: number;
}

/** Wraps a reviewer with a short-lived cache of successful reviews, keyed by SHA-256 of the token. */
export class CachingReviewer {
  readonly #review: TokenReviewer;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, CacheEntry>();

  constructor(review: TokenReviewer, ttlMs: number, maxEntries = 10_000) {
    this.#review = review;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  review(token: string): Promise<TokenReviewResult> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.result;
    if (hit) this.#entries.delete(key);
    // Concurrent requests with one token share one review; the entry is dropped if it fails.
    const result = this.#review(token);
    const expiresAt = Math.min(now + this.#ttlMs, tokenExpiry(token) ?? Infinity);
    this.#entries.set(key, { result, expiresAt });
    const drop = () => {
      if (this.#entries.get(key)?.result === result) this.#entries.delete(key);
    };
    result.then((r) => (r.authenticated ? undefined : drop()), drop);
    this.#evict(now);
    return result;
  }

  #evict(now: number): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    // Map iteration is insertion order: what remains over the limit goes oldest first.
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}

/**
 * The `exp` claim (ms since epoch) of a JWT, read without verifying: only used once TokenReview has
 * vouched for the token, to stop trusting it (cache, open stream) when it expires.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
