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

export const PROVIDER_TYPES = [
  'openai',
  'azure-openai',
  'anthropic',
  'gemini',
  'openai-compatible',
  'mock',
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Hosts that may be reached over plain http: the pod itself and in-cluster services. */
export const PLAINTEXT_HOST_PATTERN =
  '^(localhost|127(\\.[0-9]{1,3}){3}|\\[::1\\]|[a-z0-9.-]+\\.(svc|svc\\.cluster\\.local|cluster\\.local))$';

/**
 * An endpoint's host as URL() spells it (lower-cased; IPv4 normalised to dotted quads, which this matches
 * too): a DNS-1123 subdomain or a bracketed IPv6 address. Nothing else: transparent mode writes endpoint
 * hosts onto a TLS certificate and into the pod's /etc/hosts, where `*.example.com` would claim every
 * subdomain of someone else's domain.
 */
export const ENDPOINT_HOST_PATTERN =
  '^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*|\\[[0-9a-f:.]+\\])$';

/** The longest DNS name (RFC 1123): the pattern bounds each label, this the whole. */
export const MAX_DNS_NAME_LENGTH = 253;

/** Why a URL's hostname cannot be an endpoint host, or undefined. */
export function endpointHostProblem(hostname: string): string | undefined {
  if (new RegExp(ENDPOINT_HOST_PATTERN).test(hostname) && hostname.length <= MAX_DNS_NAME_LENGTH)
    return undefined;
  const wildcard = hostname.includes('*') ? ': wildcards are not allowed, name the exact host' : '';
  return (
    `endpoint host ${JSON.stringify(hostname)} must be an exact DNS name like api.openai.com (lowercase ` +
    `letters, digits, '-' and '.'; labels of at most 63 characters) or an IP address${wildcard}`
  );
}

/** USD per 1M tokens, as providers publish them. */
export const pricing = z.strictObject({
  input: z.number().min(0, 'pricing.input is USD per 1M input tokens and cannot be negative'),
  output: z.number().min(0, 'pricing.output is USD per 1M output tokens and cannot be negative'),
  cachedInput: z.number().min(0).optional().describe('USD per 1M cache-read input tokens'),
  cacheWrite: z.number().min(0).optional().describe('USD per 1M cache-write input tokens (Anthropic)'),
  reasoning: z
    .number()
    .min(0)
    .optional()
    .describe('USD per 1M reasoning tokens when billed apart from output; defaults to the output price'),
});
export type Pricing = z.infer<typeof pricing>;

export const providerModel = z.strictObject({
  name: z.string().min(1, "models[].name is the provider's own model id and must not be empty"),
  deployment: z
    .string()
    .optional()
    .describe('azure-openai: the deployment serving this model (default: name)'),
  pricing: pricing.optional(),
  contextWindow: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  capabilities: z.array(capability).max(16).optional().describe('default: [chat, streaming]'),
});
export type ProviderModel = z.infer<typeof providerModel>;

export const secretKeyRef = z.strictObject({
  name: dnsLabel('secretRef.name'),
  key: z.string().min(1, 'secretRef.key names the entry of the Secret holding the API key'),
});

const MOCK_FAULT_KINDS = ['status', 'reset', 'stall', 'slow-first-token', 'cut-stream'] as const;
export const mockFault = z.strictObject({
  kind: z.enum(MOCK_FAULT_KINDS, {
    error: () => `mock fault kind must be one of ${MOCK_FAULT_KINDS.join(', ')}`,
  }),
  probability: z.number().min(0).max(1).default(1).describe('chance per request, 0..1'),
  status: z.number().int().min(400).max(599).optional().describe('kind=status: the HTTP status to answer'),
  retryAfter: z.string().optional().describe('kind=status: Retry-After header value'),
  delay: duration('mock.faults[].delay').optional().describe('kind=slow-first-token|stall: how long'),
});
export type MockFault = z.infer<typeof mockFault>;

/** Knobs of the built-in simulated provider (type: mock). It never touches the network. */
export const mockSettings = z.strictObject({
  latency: duration('mock.latency').optional().describe('time before the first byte (default 0s)'),
  chunks: z.number().int().min(1).max(1000).optional().describe('stream chunks per answer (default 8)'),
  chunkInterval: duration('mock.chunkInterval')
    .optional()
    .describe('pause between stream chunks (default 0s)'),
  faults: z.array(mockFault).max(16).optional(),
});
export type MockSettings = z.infer<typeof mockSettings>;

export const modelProviderSpec = z
  .object({
    type: z.enum(PROVIDER_TYPES, { error: () => `type must be one of ${PROVIDER_TYPES.join(', ')}` }),
    endpoint: z
      .url({ error: 'endpoint must be an absolute URL such as https://api.openai.com/v1' })
      .max(2048, 'endpoint must be at most 2048 characters')
      .optional(),
    auth: z.strictObject({ secretRef: secretKeyRef }).optional(),
    models: z
      .array(providerModel, {
        error: 'models must list the models this provider serves, e.g. [{ name: gpt-4o-mini }]',
      })
      .min(1, 'list at least one model this provider serves')
      .max(256),
    tags: stringMap().optional(),
    limits: z
      .object({
        requestsPerMinute: z.number().int().positive().optional(),
        tokensPerMinute: z.number().int().positive().optional(),
        maxConcurrent: z.number().int().positive().optional(),
      })
      .optional(),
    timeouts: z
      .object({
        connect: duration('timeouts.connect').optional(),
        firstToken: duration('timeouts.firstToken').optional(),
        idle: duration('timeouts.idle').optional(),
        total: duration('timeouts.total').optional(),
      })
      .optional(),
    circuitBreaker: z
      .object({
        consecutiveFailures: z.number().int().min(1).max(1000).optional(),
        openFor: duration('circuitBreaker.openFor').optional(),
      })
      .optional(),
    azure: z
      .object({ apiVersion: z.string().min(1) })
      .optional()
      .describe('azure-openai only: the api-version query parameter'),
    mock: mockSettings.optional().describe("type=mock only: the SIMULATED provider's behaviour"),
  })
  .superRefine((spec, ctx) => {
    if (spec.type === 'mock') {
      if (spec.endpoint)
        ctx.addIssue({
          code: 'custom',
          path: ['endpoint'],
          message: 'a mock provider is simulated in-process: remove endpoint',
        });
      return;
    }
    if (!spec.endpoint) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message: `endpoint is required for type ${spec.type}`,
      });
    } else {
      const problem = endpointProblem(spec.endpoint);
      if (problem) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: problem });
    }
    if (spec.mock)
      ctx.addIssue({ code: 'custom', path: ['mock'], message: 'mock settings apply only to type: mock' });
    if (spec.type === 'azure-openai' && !spec.azure) {
      ctx.addIssue({
        code: 'custom',
        path: ['azure'],
        message: 'azure-openai needs azure.apiVersion, e.g. 2024-10-21',
      });
    }
  });
export type ModelProviderSpec = z.infer<typeof modelProviderSpec>;

/** Returns why an endpoint is unacceptable, or undefined. https is required except for loopback/in-cluster hosts. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be an absolute URL such as https://api.openai.com/v1';
  }
  if (url.username || url.password) return 'endpoint must not embed credentials: use auth.secretRef';
  if (url.search || url.hash) return 'endpoint must not carry a query or fragment';
  const hostProblem = endpointHostProblem(url.hostname);
  if (hostProblem) return hostProblem;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && new RegExp(PLAINTEXT_HOST_PATTERN).test(url.hostname)) return undefined;
  return 'endpoint must use https (plain http only for localhost, 127.0.0.0/8, [::1] or in-cluster *.svc hosts)';
}

export const modelProviderStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).optional(),
});

export const modelProvider = z.strictObject({
  apiVersion: z.literal(API_GROUP_VERSION, { error: () => `apiVersion must be ${API_GROUP_VERSION}` }),
  kind: z.literal('ModelProvider'),
  metadata: objectMeta,
  spec: modelProviderSpec,
  status: modelProviderStatus.optional(),
});
export type ModelProvider = z.infer<typeof modelProvider>;
