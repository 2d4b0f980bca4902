import { z } from 'zod';
import { DURATION_PATTERN } from './duration.ts';

export const API_GROUP = 'turnout.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** DNS-1123 label: what Kubernetes accepts for names used as references and route names. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const dnsLabel = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be at most 63 characters`)
    .regex(
      new RegExp(DNS_LABEL_PATTERN),
      `${what} must be lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );

export const duration = (what: string) =>
  z
    .string()
    .regex(new RegExp(DURATION_PATTERN), `${what} must be a duration with a unit, like 500ms, 2s, 5m or 1h`);

export const stringMap = () => z.record(z.string(), z.string());

export const CAPABILITIES = [
  'chat',
  'streaming',
  'tools',
  'json',
  'vision',
  'embeddings',
  'responses',
] as const;
export const capability = z.enum(CAPABILITIES, {
  error: () => `capability must be one of ${CAPABILITIES.join(', ')}`,
});
export type Capability = z.infer<typeof capability>;

export const objectMeta = z.looseObject({
  name: dnsLabel('metadata.name'),
  namespace: z.string().optional(),
  generation: z.number().int().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap().optional(),
  annotations: stringMap().optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

export const condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof condition>;
