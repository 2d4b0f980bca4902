// Pods for the webhook tests: manifests compliant with PodSecurity "restricted" on their own (so only what
// Turnout adds is judged), created through kubectl, and how to tell an injected pod.
import { readFile } from 'node:fs/promises';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { eventually, ok } from './webhook-harness.ts';

export interface PodJson {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    containers: {
      name: string;
      env?: { name: string; value?: string; valueFrom?: unknown }[];
      volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
    }[];
    initContainers?: {
      name: string;
      restartPolicy?: string;
      env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
      securityContext?: Record<string, unknown>;
      volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
    }[];
    volumes?: { name: string; [k: string]: unknown }[];
    hostAliases?: { ip: string; hostnames: string[] }[];
    securityContext?: { sysctls?: { name: string; value: string }[] };
  };
}

export function podManifest(
  ns: string,
  name: string,
  opts: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    spec?: Record<string, unknown>;
    env?: { name: string; value: string }[];
  } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
    spec: {
      // Compliant with PodSecurity "restricted" on its own, so only what Turnout adds is judged.
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'example.invalid/app:1',
          ...(opts.env && { env: opts.env }),
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      ...opts.spec,
    },
  };
}

export async function createPod(cp: ControlPlane, manifest: object, dryRun = false): Promise<PodJson> {
  const args = ['create', '-f', '-', '-o', 'json', ...(dryRun ? ['--dry-run=server'] : [])];
  return JSON.parse(ok(await cp.kubectl(args, { input: JSON.stringify(manifest) }))) as PodJson;
}

export const isInjected = (p: PodJson) =>
  p.spec.initContainers?.some((c) => c.name === 'turnout-proxy') === true;

export async function namespace(
  cp: ControlPlane,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  ok(
    await cp.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }),
    }),
  );
  await eventually(
    `default ServiceAccount in ${name}`,
    async () => (await cp.kubectl(['-n', name, 'get', 'serviceaccount', 'default'])).code === 0,
  );
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** The apiserver picks up webhook configuration changes asynchronously: wait until a dry run is injected. */
export async function waitForInjection(cp: ControlPlane, ns: string, timeoutMs = 60_000): Promise<void> {
  await eventually(
    `injection live in ${ns}`,
    async () =>
      isInjected(
        await createPod(cp, podManifest(ns, 'probe', { labels: { 'turnout.dev/inject': 'true' } }), true),
      ),
    timeoutMs,
  );
}
