// One namespace's fleet spend, per budget key and window: the sum over sidecar processes of the latest
// spend each reported, plus what a previous leader persisted in status for processes that no longer
// report (the seed). Pure bookkeeping, no I/O, no clock of its own.
//
// Each process (pod + random instance id) is a separate contribution, merged by max: spend in a window
// only grows, so a repeated or reordered report changes nothing, and a restarted sidecar (new instance,
// empty ledger) adds to its predecessor instead of replacing it. A contribution stays counted after its
// pod is gone, until its window ends.
//
// The seed is the total a previous leader wrote to status. Live processes re-report their spend, part of
// which that total already contains: they say how much (carriedUSD, learned from the persistedUSD the
// previous leader sent them), and that much is taken off the seed. What is left of the seed is the
// spend of processes that are gone. Carried amounts a sidecar never learned of are counted twice: an
// overcount, the safe direction for a budget.
//
// Keys are the raw scopes sidecars report, so two callers are never merged. Status shows a scope value
// redacted or cut when it has to (scope-label.ts), and a seed read back from such an entry cannot name its
// raw key: it waits as a pending seed, recognised by the hash its label carries, until a sidecar reports
// the raw key that hashes the same; that key then starts from the seed.
import { scopeHash } from '../../sidecar/telemetry/scope-label.ts';
import { keyId } from './keys.ts';

interface Contribution {
  used: number;
  /** Part of `used` that the seed already contains (from an earlier leader). */
  credited: number;
  /** Part of `used` this leader saw written to status. */
  persisted: number;
}

export interface KeyState {
  budgetKey: string;
  start: number;
  end: number;
  seed: number;
  byInstance: Map<string, Contribution>;
}

/** A seed from a status entry whose scope value is shown redacted or cut: no raw key is known for it yet. */
export interface PendingSeed {
  /** `<budget prefix>|<scope as status shows it>`: "header:x-team=[REDACTED]#<hash>". */
  shownKey: string;
  /** The hash of the raw header value, as the label carries it. */
  hash: string;
  start: number;
  end: number;
  seed: number;
}

export interface AggregateLimits {
  /** Keys one budget may track per window; reports of further keys are ignored. */
  maxKeysPerBudget: number;
}

/** What a status write captured: exactly these amounts are persisted once it lands. */
export type PersistMark = readonly (readonly [id: string, instance: string, used: number])[];

export class SpendAggregate {
  readonly #keys = new Map<string, KeyState>();
  /** Keyed by pendingId(): kept apart from #keys, so no reported key can land on one. */
  readonly #pending = new Map<string, PendingSeed>();
  /** Keys per `<budget prefix>\n<window start>`, to bound what one budget can hold. */
  readonly #perBudget = new Map<string, number>();
  readonly #limits: AggregateLimits;

  constructor(limits: AggregateLimits = { maxKeysPerBudget: 10_000 }) {
    this.#limits = limits;
  }

  /** Merges one reported record (micro-dollars); false when the budget already tracks too many keys. */
  record(
    instance: string,
    key: { budgetKey: string; start: number; end: number },
    used: number,
    carried: number,
  ): boolean {
    const k = this.#state(key);
    if (!k) return false;
    const c = k.byInstance.get(instance) ?? { used: 0, credited: 0, persisted: 0 };
    c.used = Math.max(c.used, used);
    c.credited = Math.max(c.credited, Math.min(carried, c.used));
    k.byInstance.set(instance, c);
    return true;
  }

  /** The total a previous leader persisted for this key; only the first seed of a term counts. */
  seed(key: { budgetKey: string; start: number; end: number }, micro: number): void {
    const k = this.#state(key);
    if (k) k.seed = Math.max(k.seed, micro);
  }

  /**
   * The seed of a status entry showing its scope other than as sent (`hash` from its label): it goes to
   * the raw key with that hash if one is known, else waits for it. At most the first seed of a term counts.
   */
  seedShown(key: { shownKey: string; hash: string; start: number; end: number }, micro: number): void {
    const prefix = key.shownKey.slice(0, key.shownKey.indexOf('|'));
    const known = this.keysOf(prefix, key.start).find((k) => scopeHash(scopeOf(k.budgetKey)) === key.hash);
    if (known) {
      known.seed = Math.max(known.seed, micro);
      return;
    }
    const id = pendingId(prefix, key.start, key.hash);
    const seed = Math.max(this.#pending.get(id)?.seed ?? 0, micro);
    this.#pending.set(id, { ...key, seed });
  }

  /** Pending seeds of one budget (`prefix|…`) in the window starting at `start`. */
  pendingOf(prefix: string, start: number): PendingSeed[] {
    return [...this.#pending.values()].filter(
      (p) => p.start === start && p.shownKey.startsWith(`${prefix}|`),
    );
  }

  get(budgetKey: string, start: number): KeyState | undefined {
    return this.#keys.get(keyId(budgetKey, start));
  }

  /** Keys of one budget (`prefix|…`) in the window starting at `start`. */
  keysOf(prefix: string, start: number): KeyState[] {
    const out: KeyState[] = [];
    for (const k of this.#keys.values())
      if (k.start === start && k.budgetKey.startsWith(`${prefix}|`)) out.push(k);
    return out;
  }

  /** Drops windows that ended and keys `keep` rejects (budgets that no longer exist); true if any went. */
  prune(now: number, keep: (budgetKey: string) => boolean): boolean {
    let dropped = false;
    for (const [id, p] of this.#pending) {
      if (p.end > now && keep(p.shownKey)) continue;
      this.#pending.delete(id);
      dropped = true;
    }
    for (const [id, k] of this.#keys) {
      if (k.end > now && keep(k.budgetKey)) continue;
      this.#keys.delete(id);
      const b = budgetId(k);
      const n = (this.#perBudget.get(b) ?? 1) - 1;
      if (n > 0) this.#perBudget.set(b, n);
      else this.#perBudget.delete(b);
      dropped = true;
    }
    return dropped;
  }

  /** Marks what a status write contained as persisted (told to sidecars for the next leader's sake). */
  persisted(mark: PersistMark): void {
    for (const [id, instance, used] of mark) {
      const c = this.#keys.get(id)?.byInstance.get(instance);
      if (c) c.persisted = Math.max(c.persisted, Math.min(used, c.used));
    }
  }

  /** The amounts a status write of these keys would persist. */
  mark(keys: readonly KeyState[]): PersistMark {
    return keys.flatMap((k) =>
      [...k.byInstance].map(([instance, c]) => [keyId(k.budgetKey, k.start), instance, c.used] as const),
    );
  }

  get size(): number {
    return this.#keys.size;
  }

  #state(key: { budgetKey: string; start: number; end: number }): KeyState | undefined {
    const id = keyId(key.budgetKey, key.start);
    const existing = this.#keys.get(id);
    if (existing) return existing;
    const b = budgetId(key);
    const n = this.#perBudget.get(b) ?? 0;
    if (n >= this.#limits.maxKeysPerBudget) return undefined;
    this.#perBudget.set(b, n + 1);
    const fresh: KeyState = { ...key, seed: this.#adopt(key), byInstance: new Map() };
    this.#keys.set(id, fresh);
    return fresh;
  }

  /** The pending seed a new raw key stands for, taken out of the pending ones; 0 when there is none. */
  #adopt(key: { budgetKey: string; start: number }): number {
    if (this.#pending.size === 0) return 0;
    const hash = scopeHash(scopeOf(key.budgetKey));
    if (hash === undefined) return 0;
    const id = pendingId(key.budgetKey.slice(0, key.budgetKey.indexOf('|')), key.start, hash);
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending?.seed ?? 0;
  }
}

/** Fleet spend on a key: what is left of the seed after live processes' carried amounts, plus theirs. */
export function totalOf(k: KeyState): number {
  let used = 0;
  let credited = 0;
  for (const c of k.byInstance.values()) {
    used += c.used;
    credited += c.credited;
  }
  return Math.max(0, k.seed - credited) + used;
}

const scopeOf = (budgetKey: string): string => budgetKey.slice(budgetKey.indexOf('|') + 1);
const pendingId = (prefix: string, start: number, hash: string) => `${prefix}\n${start}\n${hash}`;

const budgetId = (k: { budgetKey: string; start: number }) =>
  `${k.budgetKey.slice(0, k.budgetKey.indexOf('|'))}\n${k.start}`;
