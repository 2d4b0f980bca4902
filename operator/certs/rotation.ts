// When to make, pre-publish, promote and forget a CA, and when to re-issue a leaf. Pure: state and a
// clock in, state out, so every step of a rotation is unit-tested without waiting for real expiries.
//
// A CA is never swapped in one step. Its successor is first only *published* (added to the trust
// bundle every client reads: the webhook caBundle, the sidecars' and apps' CA files) while the old CA
// keeps signing. Only after `promoteAfterMs` — long enough for every client to have re-read the bundle
// — does the successor start signing; the old CA then stays in the bundle for another `promoteAfterMs`,
// until nothing serves a leaf it signed. A leaf renewal alone never changes what clients trust.
import {
  BACKDATE_MS,
  leafMatches,
  normalizeName,
  subjectAltNames,
  validity,
  type KeyPair,
} from './authority.ts';

export interface AuthorityState {
  current?: KeyPair;
  next?: KeyPair;
  nextPublishedAt?: number;
  /** The CA the current one replaced, kept trusted until `promotedAt + promoteAfterMs`. */
  previous?: string;
  promotedAt?: number;
}

export interface AuthorityTiming {
  lifetimeMs: number;
  promoteAfterMs: number;
}

export type AuthorityStep = 'created' | 'published-next' | 'promoted' | 'dropped-previous' | 'recreated';

/** The CA's remaining life below which its successor is published. */
export function renewThresholdMs(t: AuthorityTiming): number {
  return Math.max(t.lifetimeMs / 3, 2 * t.promoteAfterMs);
}

export function planAuthority(
  state: AuthorityState,
  t: AuthorityTiming,
  now: number,
  make: () => KeyPair,
): { state: AuthorityState; steps: AuthorityStep[] } {
  const steps: AuthorityStep[] = [];
  let s: AuthorityState = { ...state };
  const expired = (pem: string | undefined) => pem === undefined || validity(pem).notAfter <= now;
  if (!s.current || expired(s.current.cert)) {
    // Nothing to stay compatible with: no CA yet, or the operator was down past its expiry.
    steps.push(s.current ? 'recreated' : 'created');
    s = { current: make() };
    return { state: s, steps };
  }
  // A successor whose publication time was lost starts its grace period now: never promote early.
  if (s.next && s.nextPublishedAt === undefined) s.nextPublishedAt = now;
  if (s.next && now - (s.nextPublishedAt ?? now) >= t.promoteAfterMs) {
    s = { current: s.next, previous: s.current.cert, promotedAt: now };
    steps.push('promoted');
  }
  if (s.previous && (expired(s.previous) || now - (s.promotedAt ?? 0) >= t.promoteAfterMs)) {
    delete s.previous;
    delete s.promotedAt;
    steps.push('dropped-previous');
  }
  const current = s.current as KeyPair;
  if (!s.next && validity(current.cert).notAfter - now < renewThresholdMs(t)) {
    s.next = make();
    s.nextPublishedAt = now;
    steps.push('published-next');
  }
  return { state: s, steps };
}

/** Every CA a client should trust now, newest first. */
export function trustBundle(s: AuthorityState): string {
  return [s.next?.cert, s.current?.cert, s.previous].filter((c): c is string => !!c).join('');
}

export interface LeafWant {
  names: readonly string[];
  lifetimeMs: number;
}

/** Why a leaf must be (re-)issued from `ca`, or undefined when it is fine as it is. */
export function leafProblem(
  leaf: KeyPair | undefined,
  ca: KeyPair,
  want: LeafWant,
  now: number,
): string | undefined {
  if (!leaf) return 'missing';
  try {
    if (!leafMatches(leaf, ca)) return 'not signed by the current CA';
    const { notBefore, notAfter } = validity(leaf.cert);
    // Renew with a third of its life left (counted from issuance, not from the backdated notBefore):
    // plenty of retries before anything could expire.
    if (notAfter - now < (notAfter - (notBefore + BACKDATE_MS)) / 3) return 'expiring';
    const have = subjectAltNames(leaf.cert).join(',');
    if (have !== want.names.map(normalizeName).sort().join(',')) return 'names changed';
  } catch {
    return 'unreadable';
  }
  return undefined;
}
