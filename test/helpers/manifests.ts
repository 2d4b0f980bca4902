// YAML for the manifests `turnout dev` tests write, all in namespace t: the Secret of fake keys, a
// ModelProvider pointed at a fake upstream, and the RoutingPolicy frame around a test's own routes. Only
// the frame every test repeats is built here; what a test is about (its routes, models, limits) it passes
// in as YAML, so the manifest still reads as it will be loaded. Import as a namespace:
// `manifest.file(manifest.secret({ k: 'sk-…' }), manifest.modelProvider({ … }), manifest.routingPolicy(routes))`.

/** A Secret `keys` holding fake API keys by name; a provider's auth names one with `key`. */
export function secret(keys: Record<string, string>): string {
  const entries = Object.entries(keys).map(([name, value]) => `${name}: ${value}`);
  return `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { ${entries.join(', ')} }
`;
}

export interface ModelProviderFields {
  name: string;
  /** The provider type: openai, openai-compatible, anthropic, gemini… */
  type: string;
  endpoint: string;
  /** The entry of Secret `keys` its credential is read from. */
  key: string;
  /** The models list as YAML: a flow sequence, or block entries each on a line indented by four. */
  models: string;
  /** More spec fields (circuitBreaker, timeouts, limits, tags), as YAML at spec level. */
  extra?: string;
}

export function modelProvider(p: ModelProviderFields): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${p.name}, namespace: t }
spec:
  type: ${p.type}
  endpoint: ${p.endpoint}
  auth: { secretRef: { name: keys, key: ${p.key} } }
  ${p.extra ?? ''}
  models: ${p.models}
`;
}

/** A simulated provider (type mock): answers from the sidecar itself, no upstream and no key. */
export function mockProvider(name: string, models: string, mock?: string): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${name}, namespace: t }
spec:
  type: mock
  ${mock === undefined ? '' : `mock: ${mock}`}
  models: ${models}
`;
}

/** A RoutingPolicy (`app` unless named) of the given routes (YAML list entries indented by four), then `rest` (budgets, limits). */
export function routingPolicy(routes: string, rest = '', name = 'app'): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: ${name}, namespace: t }
spec:
  routes:
${routes}
${rest}`;
}

/** Manifests as one file's text: YAML documents joined by `---`. */
export const file = (...manifests: string[]) => manifests.join('---');
