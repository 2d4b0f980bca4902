import type { ServerResponse } from 'node:http';
import type { FailureClass, SnapshotTarget } from '../../api/index.ts';
import type { Usage } from '../accounting/usage.ts';
import type { InferenceBody, RequestFeatures } from '../routing/features.ts';
import type { Operation } from '../http/inbound.ts';
import type { RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { SidecarState } from '../runtime-state.ts';
import type { CallerDialect } from '../dialects/shaper.ts';
import type { TurnoutError } from '../errors.ts';
import type { Candidate } from './candidates.ts';

/** Everything one caller request carries through routing and its attempts. */
export interface Call {
  runtime: RuntimeSnapshot;
  /** The matched route; a budget with action route:<name> may replace it before dispatch. */
  route: RuntimeRoute;
  /** The request in canonical form: OpenAI Chat for chat calls, the OpenAI body for other operations. */
  body: InferenceBody;
  operation: Operation;
  raw: Buffer;
  features: RequestFeatures;
  res: ServerResponse;
  /** Aborts when the caller goes away. */
  clientSignal: AbortSignal;
  startedAt: number;
  attempts: AttemptRecord[];
  skipped: SkipRecord[];
  state: SidecarState;
  affinityHit?: boolean;
  /** Keep what the caller received, for the response cache. */
  recordAnswer?: boolean;
  /** The dialect the caller speaks, its own parsed body, and whether it asked for stream usage. */
  caller: CallerDialect;
  callerBody: Record<string, unknown>;
  callerWantsUsage: boolean;
  /** Candidates after the one being tried (for context-length failover). */
  remaining: Candidate[];
  /** Set when an upstream said the prompt is too long: smaller windows are not tried. */
  minContextWindow?: number;
  /** Cascade: what rejected answers cost (they were billed by the provider), and which targets gave them. */
  rejectedCostUSD?: number;
  rejected?: Set<Candidate>;
  /** Why a target could not take the request at all, when none could. */
  unsuitable?: TurnoutError;
}

export interface AttemptRecord {
  provider: string;
  model: string;
  /** `ok`, a failure class, `refused` (returned to the caller as is) or `aborted` (caller left). */
  outcome: 'ok' | FailureClass | 'refused' | 'aborted' | 'rejected';
  status?: number;
  ms: number;
  message?: string;
}

export interface SkipRecord {
  provider: string;
  model: string;
  reason: string;
}

export interface Decision {
  time: string;
  snapshot: string;
  policy: string;
  route: string;
  strategy: string;
  requestedModel: string;
  stream: boolean;
  status: number;
  provider?: string;
  model?: string;
  simulated?: boolean;
  attempts: AttemptRecord[];
  skipped: SkipRecord[];
  latencyMs: number;
  usage?: Usage;
  costUSD?: number;
  errorCode?: string;
  cacheHit?: boolean;
  affinityHit?: boolean;
  /** Budgets this call was checked against, and a route switch one of them caused. */
  budgetRedirect?: string;
}

export type TargetKey = `${string}/${string}`;
export const targetKey = (t: SnapshotTarget): TargetKey => `${t.provider}/${t.model}`;
