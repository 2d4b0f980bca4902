import type { Diagnostic, ModelProvider, Secret, SnapshotProvider } from '../../api/index.ts';
import { parseDuration, secretValue } from '../../api/index.ts';
import { MOCK_DEFAULTS, MODEL_DEFAULT_CAPABILITIES, PROVIDER_DEFAULTS } from './defaults.ts';
import type { Diagnostics } from './diagnostics.ts';

/** Provider types whose public APIs always need a key; openai-compatible may be a keyless local vLLM/Ollama. */
const KEYED_TYPES = new Set(['openai', 'azure-openai', 'anthropic', 'gemini']);

export interface CompiledProvider {
  provider: SnapshotProvider;
  /** The resolved API key, kept apart from the provider so it only travels where referenced. */
  apiKey?: string;
}

const ms = (d: string | undefined, fallback: number): number =>
  d === undefined ? fallback : parseDuration(d);

export function compileProvider(
  mp: ModelProvider,
  secrets: ReadonlyMap<string, Secret>,
  diagnostics: Diagnostics,
): CompiledProvider | undefined {
  const d = diagnostics.forObject('ModelProvider', mp.metadata.namespace ?? 'default', mp.metadata.name);
  const before = d.errorCount();
  const spec = mp.spec;
  const apiKey = resolveKey(mp, secrets, d);
  checkModels(mp, d);
  const timeouts = {
    connectMs: ms(spec.timeouts?.connect, PROVIDER_DEFAULTS.connectMs),
    firstTokenMs: ms(spec.timeouts?.firstToken, PROVIDER_DEFAULTS.firstTokenMs),
    idleMs: ms(spec.timeouts?.idle, PROVIDER_DEFAULTS.idleMs),
    totalMs: ms(spec.timeouts?.total, PROVIDER_DEFAULTS.totalMs),
  };
  if (timeouts.firstTokenMs > timeouts.totalMs) {
    d.error(
      'spec.timeouts.firstToken',
      'firstToken is longer than total: no answer could ever arrive in time',
    );
  }
  if (d.errorCount() > before) return undefined;
  const provider: SnapshotProvider = {
    name: mp.metadata.name,
    type: spec.type,
    simulated: spec.type === 'mock',
    ...(spec.endpoint !== undefined && { endpoint: spec.endpoint.replace(/\/+$/, '') }),
    ...(apiKey !== undefined && { credential: mp.metadata.name }),
    models: spec.models.map((m) => ({
      name: m.name,
      ...(m.deployment !== undefined && { deployment: m.deployment }),
      ...(m.pricing !== undefined && { pricing: m.pricing }),
      ...(m.contextWindow !== undefined && { contextWindow: m.contextWindow }),
      ...(m.maxOutputTokens !== undefined && { maxOutputTokens: m.maxOutputTokens }),
      capabilities: [...new Set(m.capabilities ?? MODEL_DEFAULT_CAPABILITIES)].sort(),
    })),
    tags: spec.tags ?? {},
    limits: { ...spec.limits },
    timeouts,
    circuitBreaker: {
      consecutiveFailures: spec.circuitBreaker?.consecutiveFailures ?? PROVIDER_DEFAULTS.consecutiveFailures,
      openForMs: ms(spec.circuitBreaker?.openFor, PROVIDER_DEFAULTS.openForMs),
    },
    ...(spec.azure !== undefined && { azure: spec.azure }),
    ...(spec.type === 'mock' && { mock: compileMock(mp) }),
  };
  return apiKey === undefined ? { provider } : { provider, apiKey };
}

function resolveKey(
  mp: ModelProvider,
  secrets: ReadonlyMap<string, Secret>,
  d: ReturnType<Diagnostics['forObject']>,
) {
  const ref = mp.spec.auth?.secretRef;
  if (!ref) {
    if (KEYED_TYPES.has(mp.spec.type)) {
      d.error(
        'spec.auth.secretRef',
        `type ${mp.spec.type} needs an API key: set auth.secretRef to a Secret in this namespace`,
      );
    }
    return undefined;
  }
  const s = secrets.get(`${mp.metadata.namespace ?? 'default'}/${ref.name}`);
  if (!s) {
    d.error(
      'spec.auth.secretRef.name',
      `Secret "${ref.name}" not found in namespace ${mp.metadata.namespace ?? 'default'}`,
    );
    return undefined;
  }
  const value = secretValue(s, ref.key)?.trim();
  if (!value) {
    d.error('spec.auth.secretRef.key', `Secret "${ref.name}" has no non-empty key "${ref.key}"`);
    return undefined;
  }
  return value;
}

function checkModels(mp: ModelProvider, d: ReturnType<Diagnostics['forObject']>): void {
  const seen = new Set<string>();
  mp.spec.models.forEach((m, i) => {
    if (seen.has(m.name)) d.error(`spec.models[${i}].name`, `model "${m.name}" is listed twice`);
    seen.add(m.name);
    if (
      m.maxOutputTokens !== undefined &&
      m.contextWindow !== undefined &&
      m.maxOutputTokens > m.contextWindow
    ) {
      d.warning(`spec.models[${i}].maxOutputTokens`, 'maxOutputTokens exceeds contextWindow');
    }
    const caps = m.capabilities ?? [];
    if (caps.includes('embeddings') && caps.some((c) => c !== 'embeddings')) {
      d.warning(`spec.models[${i}].capabilities`, 'an embeddings model usually serves nothing else');
    }
  });
}

function compileMock(mp: ModelProvider): NonNullable<SnapshotProvider['mock']> {
  const m = mp.spec.mock;
  return {
    latencyMs: ms(m?.latency, MOCK_DEFAULTS.latencyMs),
    chunks: m?.chunks ?? MOCK_DEFAULTS.chunks,
    chunkIntervalMs: ms(m?.chunkInterval, MOCK_DEFAULTS.chunkIntervalMs),
    faults: (m?.faults ?? []).map(({ delay, ...rest }) => ({
      ...rest,
      ...(delay !== undefined && { delayMs: parseDuration(delay) }),
    })),
  };
}

export type { Diagnostic };
