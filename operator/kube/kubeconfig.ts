import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import { type Cluster, KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

/** A kubeconfig file when given; otherwise $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  reuseDispatchers(kc);
  return kc;
}

type DispatcherFactory = (cluster: Cluster | null, agentOptions: AgentOptions) => Dispatcher | undefined;

/**
 * client-node (2.0) builds a new undici Agent for every request it makes, so no connection is ever
 * reused: each status patch opened its own TLS connection, with a SecureContext parsed from the CA and
 * client certificate, left idle until the Agent's keep-alive expired. The status pass over 1,000
 * policies grew the malloc heap by ~35 MB that way (measured in the operator-rss bench's setup). Here one
 * Agent serves every request while the TLS material is the same; new material (a rotated certificate, a
 * re-read CA file) gets a new Agent, and the old one closes once its requests (a long watch included) end.
 */
export function reuseDispatchers(kc: KubeConfig): void {
  // `createDispatcher` is private in client-node's types; it is what every request goes through.
  const target = kc as unknown as { createDispatcher: DispatcherFactory };
  const create = target.createDispatcher.bind(kc);
  let current: { key: string; dispatcher: Dispatcher | undefined } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const key = dispatcherKey(kc.createDispatcherOptions(cluster, agentOptions));
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: create(cluster, agentOptions) };
    previous?.close().catch(() => undefined);
    return current.dispatcher;
  };
}

/** A digest of everything the Agent would be built from (keys and certificates included, never logged). */
function dispatcherKey(options: unknown): string {
  const text = JSON.stringify(options, (_, v: unknown) =>
    isBufferJson(v) ? Buffer.from(v.data).toString('base64') : v,
  );
  return createHash('sha256').update(text).digest('hex');
}

/** A Buffer as the replacer sees it: JSON.stringify has already made it `{ type: 'Buffer', data: [...] }`. */
function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer';
}
