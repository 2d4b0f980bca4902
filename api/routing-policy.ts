import { z } from 'zod';
import {
  API_GROUP_VERSION,
  capability,
  condition,
  dnsLabel,
  duration,
  objectMeta,
  stringMap,
} from './common.ts';

export const STRATEGIES = ['priority', 'weighted', 'least-cost', 'least-latency', 'cascade'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Failure classes a route may fail over on; anything else is returned to the caller as is. */
export const FAILURE_CLASSES = ['rate-limited', 'server-error', 'timeout', 'connect-failure'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const BUDGET_WINDOWS = ['hour', 'day', 'month'] as const;
export const SCOPE_PATTERN = '^(policy|header:[A-Za-z0-9-]+)$';
/** "header:" and a header name of up to 256 characters: bounded, as the apiserver's CEL rules need. */
export const MAX_SCOPE_LENGTH = 263;

/**
 * Request headers that carry the caller's credential. A budget or rate limit scoped on one would key
 * spend and limits on the caller's secret, and that key shows in /metrics labels, decision logs, error
 * messages and the policy's status: refused as a scope, in zod (turnout dev, the operator) and CEL (the
 * apiserver).
 */
export const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
] as const;

export const CREDENTIAL_SCOPE_MESSAGE = `scope must not be a header that carries a credential (${CREDENTIAL_HEADERS.join(', ')}): callers' secrets would show in /metrics, decision logs and the policy's status; scope on a header that names the caller without being its secret, such as header:x-tenant`;

/** Whether a scope ("policy" or "header:<name>") names a credential-bearing header. */
export function isCredentialScope(scope: string): boolean {
  const lower = scope.toLowerCase();
  return CREDENTIAL_HEADERS.some((h) => lower === `header:${h}`);
}

const scope = z
  .string()
  .max(MAX_SCOPE_LENGTH, `scope must be at most ${MAX_SCOPE_LENGTH} characters`)
  .regex(new RegExp(SCOPE_PATTERN), 'scope must be "policy" or "header:<header-name>"')
  .refine((s) => !isCredentialScope(s), CREDENTIAL_SCOPE_MESSAGE);
export const BUDGET_ACTION_PATTERN = '^(reject|route:[a-z0-9]([-a-z0-9]*[a-z0-9])?)$';

export const target = z.strictObject({
  provider: dnsLabel('provider'),
  model: z.string().min(1, "model names one of the provider's models"),
  weight: z
    .number()
    .int()
    .min(0, 'weight must be 0 or more (a relative share; 0 takes the target out of rotation)')
    .max(10000, 'weight must be at most 10000')
    .optional()
    .describe('weighted strategy: relative share (default 1)'),
});
export type Target = z.infer<typeof target>;

export const routeMatch = z.strictObject({
  model: z.array(z.string().min(1)).max(64).optional().describe('requested model names; * and ? globs'),
  headers: stringMap().optional().describe('exact header values (names are case-insensitive)'),
  promptTokens: z
    .object({ min: z.number().int().min(0).optional(), max: z.number().int().positive().optional() })
    .optional()
    .describe('bounds on the prompt size estimated from the request'),
  requires: z.array(capability).max(16).optional().describe('capabilities the request must use'),
  tags: stringMap().optional().describe('values from the x-turnout-tags request header'),
});

export const route = z.strictObject({
  name: dnsLabel('routes[].name'),
  match: routeMatch.optional(),
  strategy: z
    .enum(STRATEGIES, { error: () => `strategy must be one of ${STRATEGIES.join(', ')}` })
    .optional(),
  targets: z.array(target).min(1, 'a route needs at least one target').max(64),
  fallbacks: z.array(target).max(64).optional(),
  retry: z
    .object({
      attempts: z
        .number()
        .int()
        .min(0)
        .max(10)
        .optional()
        .describe('extra rounds over the candidates (default 0)'),
      backoff: z
        .strictObject({
          base: duration('retry.backoff.base').optional(),
          max: duration('retry.backoff.max').optional(),
        })
        .optional(),
      on: z.array(z.enum(FAILURE_CLASSES)).max(8).optional(),
    })
    .optional(),
  timeouts: z
    .object({
      firstToken: duration('timeouts.firstToken').optional(),
      total: duration('timeouts.total').optional(),
    })
    .optional(),
  constraints: z.strictObject({ providerTags: stringMap().optional() }).optional(),
  affinity: z
    .strictObject({ header: z.string().min(1), ttl: duration('affinity.ttl').optional() })
    .optional(),
  cascade: z
    .object({
      accept: z.strictObject({
        jsonSchema: z.record(z.string(), z.unknown()).optional(),
        minOutputTokens: z.number().int().min(0).optional(),
        finishReasons: z.array(z.string()).max(8).optional(),
      }),
    })
    .optional(),
  cache: z
    .object({ ttl: duration('cache.ttl'), maxEntries: z.number().int().min(1).max(1_000_000).optional() })
    .optional(),
  shadow: z
    .object({
      provider: dnsLabel('shadow.provider'),
      model: z.string().min(1),
      percent: z
        .number()
        .min(0, 'shadow.percent must be between 0 and 100')
        .max(100, 'shadow.percent must be between 0 and 100'),
    })
    .optional(),
});
export type Route = z.infer<typeof route>;

export const budget = z.strictObject({
  name: dnsLabel('budgets[].name'),
  limitUSD: z.number().positive('limitUSD must be a positive amount of US dollars'),
  window: z.enum(BUDGET_WINDOWS, { error: () => `window must be one of ${BUDGET_WINDOWS.join(', ')}` }),
  scope: scope.optional(),
  action: z
    .string()
    .regex(new RegExp(BUDGET_ACTION_PATTERN), 'action must be "reject" or "route:<route-name>"')
    .max(69, 'action must be at most 69 characters: "route:" plus a route name')
    .optional(),
});
export type Budget = z.infer<typeof budget>;

export const rateLimit = z
  .object({
    scope: scope.optional(),
    requestsPerMinute: z.number().int().positive().optional(),
    tokensPerMinute: z.number().int().positive().optional(),
  })
  .refine((r) => r.requestsPerMinute !== undefined || r.tokensPerMinute !== undefined, {
    message: 'a rate limit needs requestsPerMinute, tokensPerMinute or both',
  });
export type RateLimit = z.infer<typeof rateLimit>;

export const routingPolicySpec = z.strictObject({
  workloadSelector: z.strictObject({ matchLabels: stringMap().optional() }).optional(),
  routes: z.array(route).min(1, 'a policy needs at least one route').max(128),
  defaultRoute: dnsLabel('defaultRoute').optional(),
  budgets: z.array(budget).max(32).optional(),
  rateLimits: z.array(rateLimit).max(32).optional(),
});
export type RoutingPolicySpec = z.infer<typeof routingPolicySpec>;

export const routingPolicyStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).optional(),
  snapshotVersion: z.string().optional(),
  sidecars: z
    .object({
      selected: z.number().int(),
      synced: z.number().int(),
      stale: z.number().int(),
      rejected: z.number().int(),
    })
    .optional(),
  spend: z
    .array(
      z.strictObject({
        budget: z.string(),
        scopeKey: z.string().optional(),
        windowStart: z.string(),
        usedUSD: z.string(),
      }),
    )
    .optional(),
});

export const routingPolicy = z.strictObject({
  apiVersion: z.literal(API_GROUP_VERSION, { error: () => `apiVersion must be ${API_GROUP_VERSION}` }),
  kind: z.literal('RoutingPolicy'),
  metadata: objectMeta,
  spec: routingPolicySpec,
  status: routingPolicyStatus.optional(),
});
export type RoutingPolicy = z.infer<typeof routingPolicy>;
