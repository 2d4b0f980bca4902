// Lease math (README.md): what a budget has left is shared among the sidecars that may spend it. Every
// amount is in micro-dollars; a holder's headroom is what it may still spend on its own.
//
// A sidecar may hold any lease it was sent and has not acknowledged yet (the event may be in flight),
// so its headroom counts at the highest of those. Leases that shrink take effect as sent; leases that
// grow are paid only from what is free even if every shrinking lease were still in force. A growth that
// has to wait is granted once the others acknowledge their smaller leases.

export interface LeaseHolder {
  pod: string;
  /** Holds an open stream from a sidecar process that enforces leases: it will hear a new grant. */
  connected: boolean;
  /** Its current sidecar process's own reported spend on the key. */
  own: number;
  /** The highest ceiling (own spend it may reach) it may hold: acknowledged or sent since. */
  held: number | undefined;
}

/**
 * What a holder may still spend on its own under what it holds; when it holds nothing we know of (not
 * yet connected this term, or holding the previous leader's lease), an even share of what is left.
 */
export function headroom(h: LeaseHolder, evenShare: number): number {
  return h.held === undefined ? evenShare : Math.max(0, h.held - h.own);
}

/**
 * Leases for the connected holders: how much more of its own each may spend (on top of `own`). Holders
 * out of reach keep their headroom; the connected ones aim at an even split of the rest. If what every
 * holder may hold already fits in `limit − total`, it still fits after this grant.
 */
export function grantLeases(
  limit: number,
  total: number,
  holders: readonly LeaseHolder[],
): Map<string, number> {
  const out = new Map<string, number>();
  const connected = holders.filter((h) => h.connected);
  if (connected.length === 0) return out;
  const remaining = Math.max(0, limit - total);
  const even = Math.floor(remaining / holders.length);
  let away = 0;
  for (const h of holders) if (!h.connected) away += headroom(h, even);
  const target = Math.floor(Math.max(0, remaining - away) / connected.length);
  let possiblyHeld = away;
  for (const h of connected) possiblyHeld += headroom(h, even);
  const rising = connected.filter((h) => target > headroom(h, even));
  const extra = rising.length === 0 ? 0 : Math.floor(Math.max(0, remaining - possiblyHeld) / rising.length);
  for (const h of connected) {
    const now = headroom(h, even);
    out.set(h.pod, target <= now ? target : now + Math.min(target - now, extra));
  }
  return out;
}
