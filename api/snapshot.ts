// The compiled form a sidecar runs: everything resolved (defaults applied, durations in ms, secrets
// looked up), nothing left to validate on the hot path. Versioned by a hash of its own content, so the
// same inputs always give the same version and any change — a Secret rotation included — gives a new one.
import { createHash } from 'node:crypto';
import type { Capability } from './common.ts';
import type { MockFault, Pricing, ProviderType } from './model-provider.ts';
import type { FailureClass, Strategy } from './routing-policy.ts';

export const SNAPSHOT_SCHEMA = 1;

export interface SnapshotModel {
  name: string;
  deployment?: string;
  pricing?: Pricing;
  contextWindow?: number;
  maxOutputTokens?: number;
  capabilities: Capability[];
}

export interface SnapshotProvider {
  name: string;
  type: ProviderType;
  /** Marked on every simulated provider so logs, headers and traces can say so. */
  simulated: boolean;
  endpoint?: string;
  /** Key into {@link Snapshot.credentials}; absent when the provider takes no credentials. */
  credential?: string;
  models: SnapshotModel[];
  tags: Record<string, string>;
  limits: { requestsPerMinute?: number; tokensPerMinute?: number; maxConcurrent?: number };
  timeouts: { connectMs: number; firstTokenMs: number; idleMs: number; totalMs: number };
  circuitBreaker: { consecutiveFailures: number; openForMs: number };
  azure?: { apiVersion: string };
  mock?: { latencyMs: number; chunks: number; chunkIntervalMs: number; faults: SnapshotMockFault[] };
}

export type SnapshotMockFault = Omit<MockFault, 'delay'> & { delayMs?: number };

export interface SnapshotTarget {
  provider: string;
  model: string;
  weight: number;
}

export interface SnapshotRoute {
  name: string;
  match: {
    models: string[];
    /** Header names lower-cased. */
    headers: Record<string, string>;
    promptTokensMin?: number;
    promptTokensMax?: number;
    requires: Capability[];
    tags: Record<string, string>;
  };
  strategy: Strategy;
  targets: SnapshotTarget[];
  fallbacks: SnapshotTarget[];
  retry: { attempts: number; backoffBaseMs: number; backoffMaxMs: number; on: FailureClass[] };
  timeouts: { firstTokenMs?: number; totalMs?: number };
  providerTags: Record<string, string>;
  affinity?: { header: string; ttlMs: number };
  cascade?: { jsonSchema?: Record<string, unknown>; minOutputTokens?: number; finishReasons?: string[] };
  cache?: { ttlMs: number; maxEntries: number };
  shadow?: { provider: string; model: string; percent: number };
}

export interface SnapshotBudget {
  name: string;
  limitUSD: number;
  window: 'hour' | 'day' | 'month';
  /** "policy" or "header:<lower-cased name>". */
  scope: string;
  /** "reject" or "route:<name>". */
  action: string;
}

export interface SnapshotRateLimit {
  scope: string;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface SnapshotPolicy {
  name: string;
  namespace: string;
  generation: number;
  /** Labels the policy selects; empty = every injected pod in the namespace. */
  selector: Record<string, string>;
  routes: SnapshotRoute[];
  defaultRoute?: string;
  budgets: SnapshotBudget[];
  rateLimits: SnapshotRateLimit[];
}

export interface Snapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  /** "sha256:<hex>" of the canonical JSON of every other field. */
  version: string;
  namespace: string;
  /** In precedence order: policies with a workloadSelector before namespace-wide ones, then by name. */
  policies: SnapshotPolicy[];
  /** Only the providers the policies reference, sorted by name. */
  providers: SnapshotProvider[];
  /** Provider credential key → API key. Only what the providers above reference. */
  credentials: Record<string, string>;
}

export type UnversionedSnapshot = Omit<Snapshot, 'version'>;

/**
 * Canonical JSON text of snapshot parts, memoised per object: snapshot pieces are immutable once
 * compiled, and one policy or provider object is shared by many workload snapshots, so each is
 * serialised once rather than once per snapshot. Only objects up to {@link SHARED_DEPTH} levels below
 * the value serialised are memoised: those are the shared pieces (snapshot → policies → a policy).
 * Memoising every nested route, target and map as well kept a string per level of nesting, each
 * repeating the text of the levels below it: ~20 MB for 1,000 policies, for pieces never looked up.
 */
const canonicalCache = new WeakMap<object, string>();
const SHARED_DEPTH = 2;

/** JSON with object keys sorted at every level (undefined members dropped, as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

function canonical(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const memoised = depth <= SHARED_DEPTH;
  const cached = memoised ? canonicalCache.get(value) : undefined;
  if (cached !== undefined) return cached;
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((v: unknown) => (v === undefined || typeof v === 'function' ? 'null' : canonical(v, depth + 1))).join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = record[key];
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${JSON.stringify(key)}:${canonical(v, depth + 1)}`);
    }
    text = `{${parts.join(',')}}`;
  }
  if (memoised) canonicalCache.set(value, text);
  return text;
}

export function snapshotVersion(content: UnversionedSnapshot): string {
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

export function withVersion(content: UnversionedSnapshot): Snapshot {
  return { ...content, version: snapshotVersion(content) };
}
