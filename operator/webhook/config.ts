// The injector's configuration: one JSON file the Helm chart renders from values (a ConfigMap mounted
// into the operator), validated once at startup so a bad value stops the operator with a clear message
// instead of injecting broken pods.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isDuration, parseDuration } from '../../api/duration.ts';
import { renewThresholdMs } from '../certs/rotation.ts';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(isDuration, { message: 'use a duration like 30s, 10m or 720h' })
    .transform(parseDuration);

const quantityMap = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

const port = z.number().int().min(1).max(65535);

export const injectorConfig = z.object({
  /** The operator's namespace; defaults to $POD_NAMESPACE. Never injected. */
  namespace: z.string().optional(),
  webhook: z
    .object({
      listen: z.string().default('0.0.0.0:9443'),
      /** MutatingWebhookConfiguration whose caBundle the operator keeps current (managed TLS only). */
      configurationName: z.string().optional(),
    })
    .prefault({}),
  tls: z.object({
    dir: z.string().default('/var/run/turnout/tls'),
    /** Operator-managed CA + serving cert Secret; omit when cert-manager mounts the files. */
    secretName: z.string().optional(),
    dnsNames: z.array(z.string()).default([]),
    ipAddresses: z.array(z.string()).default([]),
    caLifetime: duration('87600h'),
    certLifetime: duration('2160h'),
    promoteAfter: duration('10m'),
    syncInterval: duration('10s'),
  }),
  mesh: z
    .object({
      caSecret: z.string().default('turnout-mesh-ca'),
      configMap: z.string().default('turnout-ca'),
      leafSecret: z.string().default('turnout-mesh-tls'),
      caLifetime: duration('87600h'),
      leafLifetime: duration('720h'),
      promoteAfter: duration('8760h'),
      syncInterval: duration('1m'),
    })
    .prefault({}),
  sidecar: z.object({
    image: z.string().min(1),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    /** How sidecars reach the push server: https://<service>.<namespace>.svc:15401 in a cluster. */
    operatorUrl: z.string().regex(/^https:\/\//, 'the operator URL must be https://…'),
    resources: z
      .object({ requests: quantityMap.optional(), limits: quantityMap.optional() })
      .default({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
    runAsUser: z.number().int().min(1).default(1000),
    runAsGroup: z.number().int().min(1).default(1000),
    port: port.default(15400),
    opsPort: port.default(15402),
    transparentPort: port.default(443),
    /** Start app containers only once the sidecar has a policy snapshot (startupProbe on /readyz). */
    holdApplicationUntilReady: z.boolean().default(true),
    tokenExpirationSeconds: z.number().int().min(600).default(3600),
    stateVolume: z
      .object({ medium: z.enum(['', 'Memory']).default('Memory'), sizeLimit: z.string().default('16Mi') })
      .prefault({}),
    env: z.record(z.string(), z.string()).default({}),
  }),
  injection: z
    .object({
      defaultMode: z.enum(['explicit', 'transparent']).default('explicit'),
      excludedNamespaces: z.array(z.string()).default(['kube-system', 'kube-public', 'kube-node-lease']),
    })
    .prefault({}),
});

export type InjectorConfig = z.output<typeof injectorConfig>;
export type SidecarConfig = InjectorConfig['sidecar'];

export function parseInjectorConfig(raw: unknown, podNamespace?: string): InjectorConfig {
  const parsed = injectorConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid injector configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = parsed.data;
  const namespace = config.namespace ?? podNamespace;
  if (!namespace)
    throw new Error('invalid injector configuration: namespace is unset and so is $POD_NAMESPACE');
  for (const [what, t] of [
    ['tls', { lifetimeMs: config.tls.caLifetime, promoteAfterMs: config.tls.promoteAfter }],
    ['mesh', { lifetimeMs: config.mesh.caLifetime, promoteAfterMs: config.mesh.promoteAfter }],
  ] as const) {
    // The successor must be published for a full promoteAfter before the old CA runs out.
    if (renewThresholdMs(t) >= t.lifetimeMs)
      throw new Error(
        `invalid injector configuration: ${what}.promoteAfter must be under half of ${what}.caLifetime`,
      );
  }
  return { ...config, namespace };
}

export async function loadInjectorConfig(path: string, podNamespace?: string): Promise<InjectorConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(
      `cannot read injector configuration ${path}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return parseInjectorConfig(raw, podNamespace);
}
