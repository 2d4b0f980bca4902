// Telemetry configuration from the standard OpenTelemetry environment variables (the injector and Helm
// values set them; nothing Turnout-specific to learn). Tracing is on only when there is somewhere to
// send spans: an OTLP endpoint, or OTEL_TRACES_EXPORTER naming an exporter. Without either, a sidecar
// would otherwise retry exports to localhost:4318 forever in every pod.
// @opentelemetry/core (and the api and semantic-conventions it loads) is imported only when tracing is on.

export type Env = Readonly<Record<string, string | undefined>>;

export type SamplerConfig =
  | { kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { kind: 'traceidratio' | 'parentbased_traceidratio'; ratio: number };

export interface TracingConfig {
  exporter: 'otlp' | 'console';
  /** OTLP/HTTP traces URL (…/v1/traces). */
  url?: string;
  headers?: Record<string, string>;
  sampler: SamplerConfig;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  batch: {
    scheduledDelayMillis?: number;
    maxQueueSize?: number;
    maxExportBatchSize?: number;
    exportTimeoutMillis?: number;
  };
  attributeValueLengthLimit?: number;
}

export interface TelemetryConfig {
  /** Undefined: tracing is off (no span is created, no exporter runs). */
  tracing: TracingConfig | undefined;
  /** Put prompts and completions on spans (gen_ai.input.messages / gen_ai.output.messages). */
  captureContent: boolean;
  /** Problems with the variables, for the startup log; telemetry never stops the sidecar. */
  warnings: string[];
}

/** The GenAI instrumentations' own switch for message content, so one variable means one thing everywhere. */
export const CAPTURE_CONTENT_ENV = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';

const SAMPLERS = new Set([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);

export async function telemetryConfig(env: Env): Promise<TelemetryConfig> {
  const warnings: string[] = [];
  const captureContent = /^(true|1|yes)$/i.test(env[CAPTURE_CONTENT_ENV]?.trim() ?? '');
  return { tracing: await tracingConfig(env, warnings), captureContent, warnings };
}

async function tracingConfig(env: Env, warnings: string[]): Promise<TracingConfig | undefined> {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (exporters.includes('none')) return undefined;
  const url = tracesUrl(env, warnings);
  const named = exporters.find((e) => e === 'otlp' || e === 'console');
  for (const e of exporters)
    if (e !== 'otlp' && e !== 'console')
      warnings.push(`OTEL_TRACES_EXPORTER: unsupported exporter "${e}" ignored`);
  if (!named && url === undefined) return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/protobuf')
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; exporting OTLP/HTTP protobuf`);
  const { parseKeyPairsIntoRecord } = await import('@opentelemetry/core');
  const headers = {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const limit = positiveInt(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', warnings);
  return {
    exporter: named ?? 'otlp',
    ...(url !== undefined && { url }),
    ...(Object.keys(headers).length > 0 && { headers }),
    sampler: samplerConfig(env, warnings),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'turnout-sidecar',
    resourceAttributes: parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES),
    batch: {
      ...optional('scheduledDelayMillis', positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY', warnings)),
      ...optional('maxQueueSize', positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', warnings)),
      ...optional('maxExportBatchSize', positiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', warnings)),
      ...optional('exportTimeoutMillis', positiveInt(env, 'OTEL_BSP_EXPORT_TIMEOUT', warnings)),
    },
    ...(limit !== undefined && { attributeValueLengthLimit: limit }),
  };
}

/** The signal-specific endpoint is used as given; the generic one gets /v1/traces appended (OTLP spec). */
function tracesUrl(env: Env, warnings: string[]): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = specific || (generic ? `${generic.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (url === undefined) return undefined;
  try {
    new URL(url);
    return url;
  } catch {
    warnings.push(`OTLP endpoint "${url}" is not a URL; tracing is off`);
    return undefined;
  }
}

export function samplerConfig(env: Env, warnings: string[] = []): SamplerConfig {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  if (!SAMPLERS.has(name)) {
    warnings.push(`OTEL_TRACES_SAMPLER=${name} is not supported; using parentbased_always_on`);
    return { kind: 'parentbased_always_on' };
  }
  if (name !== 'traceidratio' && name !== 'parentbased_traceidratio')
    return { kind: name as 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' };
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg === undefined || arg === '' ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) {
    warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg} is not a ratio in [0, 1]; using 1`);
    return { kind: name, ratio: 1 };
  }
  return { kind: name, ratio };
}

function positiveInt(env: Env, name: string, warnings: string[]): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (Number.isInteger(n) && n > 0) return n;
  warnings.push(`${name}=${text} is not a positive integer; ignored`);
  return undefined;
}

const optional = <K extends string>(key: K, v: number | undefined) =>
  (v === undefined ? {} : { [key]: v }) as Partial<Record<K, number>>;
