// Defaults a user gets when a field is omitted. Generous on purpose for LLM traffic: reasoning models can
// think for a minute before the first token, so tight defaults would turn healthy calls into failovers.
import type { Capability, FailureClass } from '../../api/index.ts';
import { FAILURE_CLASSES } from '../../api/index.ts';

export const PROVIDER_DEFAULTS = {
  connectMs: 10_000,
  firstTokenMs: 60_000,
  idleMs: 60_000,
  totalMs: 600_000,
  consecutiveFailures: 5,
  openForMs: 30_000,
} as const;

export const MODEL_DEFAULT_CAPABILITIES: readonly Capability[] = ['chat', 'streaming'];

export const ROUTE_DEFAULTS = {
  attempts: 0,
  backoffBaseMs: 200,
  backoffMaxMs: 5_000,
  on: FAILURE_CLASSES as readonly FailureClass[],
  cacheMaxEntries: 10_000,
  affinityTtlMs: 30 * 60_000,
} as const;

export const MOCK_DEFAULTS = { latencyMs: 0, chunks: 8, chunkIntervalMs: 0 } as const;
