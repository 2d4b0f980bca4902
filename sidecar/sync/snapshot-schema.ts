// The sidecar's boundary check of a pushed snapshot: its shape (zod, strict — a field this sidecar does not
// know could be a constraint it would silently fail to enforce, so it is refused rather than ignored) and
// its integrity (the content must hash to the version it claims). Run once per push, never per request.
import { z } from 'zod';
// From the modules themselves, not api/index.ts: that would also load the manifest parser (yaml), which
// an in-pod sidecar never uses.
import { capability } from '../../api/common.ts';
import { PROVIDER_TYPES } from '../../api/model-provider.ts';
import { BUDGET_WINDOWS, FAILURE_CLASSES, STRATEGIES } from '../../api/routing-policy.ts';
import { SNAPSHOT_SCHEMA, snapshotVersion, type Snapshot } from '../../api/snapshot.ts';

const stringMap = z.record(z.string(), z.string());
const count = z.number().int().min(0);
const ms = z.number().int().min(0);
const usd = z.number().finite().min(0);

const pricing = z.strictObject({
  input: usd,
  output: usd,
  cachedInput: usd.optional(),
  cacheWrite: usd.optional(),
  reasoning: usd.optional(),
});

const model = z.strictObject({
  name: z.string().min(1),
  deployment: z.string().optional(),
  pricing: pricing.optional(),
  contextWindow: count.optional(),
  maxOutputTokens: count.optional(),
  capabilities: z.array(capability),
});

const mockFault = z.strictObject({
  kind: z.enum(['status', 'reset', 'stall', 'slow-first-token', 'cut-stream']),
  probability: z.number().min(0).max(1),
  status: z.number().int().optional(),
  retryAfter: z.string().optional(),
  delayMs: ms.optional(),
});

const provider = z.strictObject({
  name: z.string().min(1),
  type: z.enum(PROVIDER_TYPES),
  simulated: z.boolean(),
  endpoint: z.string().optional(),
  credential: z.string().optional(),
  models: z.array(model),
  tags: stringMap,
  limits: z.strictObject({
    requestsPerMinute: count.optional(),
    tokensPerMinute: count.optional(),
    maxConcurrent: count.optional(),
  }),
  timeouts: z.strictObject({ connectMs: ms, firstTokenMs: ms, idleMs: ms, totalMs: ms }),
  circuitBreaker: z.strictObject({ consecutiveFailures: count, openForMs: ms }),
  azure: z.strictObject({ apiVersion: z.string() }).optional(),
  mock: z
    .strictObject({ latencyMs: ms, chunks: count, chunkIntervalMs: ms, faults: z.array(mockFault) })
    .optional(),
});

const target = z.strictObject({ provider: z.string().min(1), model: z.string().min(1), weight: count });

const route = z.strictObject({
  name: z.string().min(1),
  match: z.strictObject({
    models: z.array(z.string()),
    headers: stringMap,
    promptTokensMin: count.optional(),
    promptTokensMax: count.optional(),
    requires: z.array(capability),
    tags: stringMap,
  }),
  strategy: z.enum(STRATEGIES),
  targets: z.array(target),
  fallbacks: z.array(target),
  retry: z.strictObject({
    attempts: count,
    backoffBaseMs: ms,
    backoffMaxMs: ms,
    on: z.array(z.enum(FAILURE_CLASSES)),
  }),
  timeouts: z.strictObject({ firstTokenMs: ms.optional(), totalMs: ms.optional() }),
  providerTags: stringMap,
  affinity: z.strictObject({ header: z.string(), ttlMs: ms }).optional(),
  cascade: z
    .strictObject({
      jsonSchema: z.record(z.string(), z.unknown()).optional(),
      minOutputTokens: count.optional(),
      finishReasons: z.array(z.string()).optional(),
    })
    .optional(),
  cache: z.strictObject({ ttlMs: ms, maxEntries: count }).optional(),
  shadow: z
    .strictObject({ provider: z.string(), model: z.string(), percent: z.number().min(0).max(100) })
    .optional(),
});

const policy = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  generation: count,
  selector: stringMap,
  routes: z.array(route),
  defaultRoute: z.string().optional(),
  budgets: z.array(
    z.strictObject({
      name: z.string(),
      limitUSD: usd,
      window: z.enum(BUDGET_WINDOWS),
      scope: z.string(),
      action: z.string(),
    }),
  ),
  rateLimits: z.array(
    z.strictObject({
      scope: z.string(),
      requestsPerMinute: count.optional(),
      tokensPerMinute: count.optional(),
    }),
  ),
});

export const snapshotSchema = z.strictObject({
  schema: z.literal(SNAPSHOT_SCHEMA, {
    error: () => `this sidecar reads snapshot schema ${SNAPSHOT_SCHEMA}`,
  }),
  version: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'version must be sha256:<64 hex digits>'),
  namespace: z.string().min(1),
  policies: z.array(policy),
  providers: z.array(provider),
  credentials: stringMap,
});

// Both directions: the build breaks when api/snapshot.ts and this schema drift apart.
type Parsed = z.infer<typeof snapshotSchema>;
const _toSnapshot = (p: Parsed): Snapshot => p;
const _fromSnapshot = (s: Snapshot): Parsed => s;

export class InvalidSnapshot extends Error {
  override name = 'InvalidSnapshot';
}

/** JSON.parse whose error does not quote the input (V8's does, and the input may hold API keys). */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidSnapshot(`${what} is not valid JSON`);
  }
}

/**
 * The snapshot in `value`, or an {@link InvalidSnapshot} saying what is wrong. Messages name paths and
 * rules only, never values: a snapshot carries API keys.
 */
export function parseSnapshot(value: unknown, expectedNamespace?: string): Snapshot {
  const result = snapshotSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidSnapshot(`snapshot does not match schema ${SNAPSHOT_SCHEMA}: ${issues.join('; ')}`);
  }
  // Hash what was received, not zod's output: the claim is about those exact bytes' content.
  const { version, ...content } = value as Snapshot;
  const actual = snapshotVersion(content);
  if (actual !== version)
    throw new InvalidSnapshot(
      `snapshot content does not match its version: claims ${version}, hashes to ${actual}`,
    );
  if (expectedNamespace !== undefined && result.data.namespace !== expectedNamespace)
    throw new InvalidSnapshot(
      `snapshot is for namespace ${result.data.namespace}, this pod is in ${expectedNamespace}`,
    );
  return result.data;
}
