import { z } from 'zod';
import { objectMeta } from './common.ts';

/** The core/v1 Secret fields Turnout reads: data (base64) and stringData (plain, as kubectl accepts it). */
export const secret = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: objectMeta,
  type: z.string().optional(),
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
});
export type Secret = z.infer<typeof secret>;

/** The decoded value of one key, stringData winning as it does on the apiserver. */
export function secretValue(s: Secret, key: string): string | undefined {
  const plain = s.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = s.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
