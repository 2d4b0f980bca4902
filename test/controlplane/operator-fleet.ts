// Shared by operator tests that run `turnout operator` replicas as processes standing in for the chart's
// pods: each replica has a real Pod object (labels from the rendered Deployment), and sidecars reach the
// replicas through a stand-in for the chart's push Service that selects pods with its rendered selector.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { freePort } from '../helpers/control-plane/net.ts';
import { startBalancer } from './webhook-balancer.ts';
import { ok } from './operator-harness.ts';

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const CHART = fileURLToPath(new URL('../../charts/turnout', import.meta.url));
export const SYSTEM_NS = 'turnout-system';
const RELEASE = 'turnout';

interface Rendered {
  kind: string;
  metadata: { name: string };
  spec: { selector?: Record<string, string>; template?: { metadata: { labels: Record<string, string> } } };
}

/** The chart's push Service selector and its operator pods' labels, as `helm template` renders them. */
export async function renderedChart(cp: ControlPlane) {
  const text = ok(await cp.helm(['template', RELEASE, CHART, '-n', SYSTEM_NS]));
  const docs = parseAllDocuments(text)
    .map((d) => d.toJS() as Rendered | null)
    .filter((d): d is Rendered => d !== null);
  const push = docs.find((d) => d.kind === 'Service' && d.metadata.name === `${RELEASE}-push`);
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const selector = push?.spec.selector ?? assert.fail('no push Service in the chart');
  const podLabels = deployment?.spec.template?.metadata.labels ?? assert.fail('no Deployment in the chart');
  return { selector, podLabels };
}

export interface OperatorReplica {
  pod: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves once the push server listens. */
  serving: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `turnout operator` as its pod runs it (POD_NAME/POD_NAMESPACE from the downward API). */
export function spawnOperator(
  cp: ControlPlane,
  pod: string,
  port: number,
  tls: { cert: string; key: string },
): OperatorReplica {
  const child = spawn(process.execPath, [CLI, 'operator', '--kubeconfig', cp.kubeconfig], {
    env: {
      ...cp.env,
      POD_NAME: pod,
      POD_NAMESPACE: SYSTEM_NS,
      TURNOUT_PUSH_LISTEN: `127.0.0.1:${port}`,
      TURNOUT_TLS_CERT: tls.cert,
      TURNOUT_TLS_KEY: tls.key,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const serving = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      text += c.toString();
      if (text.includes('"component":"push","msg":"serving"')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`operator ${pod} exited with ${code}:\n${text}`)));
  });
  serving.catch(() => undefined);
  return {
    pod,
    port,
    child,
    output: () => text,
    serving,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Pods (never scheduled: no nodes here) carrying the labels the chart's Deployment gives its pods. */
export async function createOperatorPods(cp: ControlPlane, names: string[], labels: Record<string, string>) {
  for (const name of names) {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: SYSTEM_NS, labels },
      spec: { containers: [{ name: 'operator', image: 'example.invalid/turnout-operator:test' }] },
    };
    ok(await cp.kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) }));
  }
}

/** Names of the pods the selector picks, as the EndpointSlice controller would see them. */
export async function selectedPods(cp: ControlPlane, selector: Record<string, string>): Promise<string[]> {
  const l = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const out = ok(
    await cp.kubectl(['-n', SYSTEM_NS, 'get', 'pods', '-l', l, '-o', 'jsonpath={.items[*].metadata.name}']),
  );
  return out.split(/\s+/).filter(Boolean).sort();
}

/**
 * The push Service without kube-proxy: one address whose connections go to the push port of the pods
 * its selector picks (re-read every 300 ms, as endpoints follow labels).
 */
export async function startPushService(
  cp: ControlPlane,
  selector: Record<string, string>,
  portOf: (pod: string) => number | undefined,
) {
  let backends: number[] = [];
  let closed = false;
  const refresh = async () => {
    while (!closed) {
      try {
        backends = (await selectedPods(cp, selector)).flatMap((p) => portOf(p) ?? []);
      } catch {
        // Keep the last endpoints while the apiserver does not answer, as kube-proxy does.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const refreshing = refresh();
  const balancer = await startBalancer(() => backends);
  return {
    url: `https://127.0.0.1:${balancer.port}`,
    close: async () => {
      closed = true;
      await refreshing;
      await balancer.close();
    },
  };
}

export { freePort };
