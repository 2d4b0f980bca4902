// Test-only: the Kubernetes objects push tests need on a real apiserver (namespaces, pods that stay
// Pending, pod-bound ServiceAccount tokens), driven through kubectl like a user would.
import type { PodIdentity } from '../../contract.ts';

export type Kubectl = (
  args: readonly string[],
  opts?: { input?: string },
) => Promise<{ code: number; stdout: string; stderr: string }>;

async function ok(kubectl: Kubectl, args: readonly string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A namespace whose ServiceAccount `sa` exists (the controller manager creates `default` on its own). */
export async function createNamespace(kubectl: Kubectl, ns: string, sa = 'app'): Promise<void> {
  await ok(kubectl, ['create', 'namespace', ns]);
  await ok(kubectl, ['-n', ns, 'create', 'serviceaccount', sa]);
  const deadline = Date.now() + 60_000;
  // Pod admission needs the `default` ServiceAccount even when the pod names another one.
  while ((await kubectl(['-n', ns, 'get', 'serviceaccount', 'default'])).code !== 0) {
    if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${ns}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A pod (never scheduled: the test cluster has no nodes) running as ServiceAccount `sa`. */
export async function createPod(
  kubectl: Kubectl,
  ns: string,
  name: string,
  labels: Record<string, string> = {},
  sa = 'app',
): Promise<PodIdentity> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { 'turnout.dev/inject': 'true', ...labels } },
    spec: {
      serviceAccountName: sa,
      containers: [{ name: 'app', image: 'example.invalid/app:1' }],
      // As the webhook injects it: the operator counts only pods that run the sidecar.
      initContainers: [
        { name: 'turnout-proxy', image: 'example.invalid/turnout:1', restartPolicy: 'Always' },
      ],
    },
  };
  const out = await ok(kubectl, ['create', '-f', '-', '-o', 'json'], JSON.stringify(pod));
  const created = JSON.parse(out) as { metadata: { uid: string } };
  return { namespace: ns, name, uid: created.metadata.uid, labels };
}

/** A token as the kubelet would project it: for `audience`, bound to `pod` unless `pod` is omitted. */
export async function mintToken(
  kubectl: Kubectl,
  ns: string,
  opts: { audience: string; pod?: PodIdentity; sa?: string },
): Promise<string> {
  const bound = opts.pod
    ? ['--bound-object-kind', 'Pod', '--bound-object-name', opts.pod.name, '--bound-object-uid', opts.pod.uid]
    : [];
  const out = await ok(kubectl, [
    '-n',
    ns,
    'create',
    'token',
    opts.sa ?? 'app',
    '--audience',
    opts.audience,
    ...bound,
  ]);
  return out.trim();
}
