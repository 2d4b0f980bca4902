// Manifests for sidecar-tier tests: real provider types pointed at fake upstreams on loopback.

export const PRIMARY_KEY = 'sk-test-primary-0123456789';
export const SECONDARY_KEY = 'sk-test-secondary-9876543210';

/** Failover tests fail the primary many times in a row; its breaker threshold is raised so it stays closed. */
export function providersYaml(
  primaryUrl: string,
  secondaryUrl: string,
  primaryExtra = 'circuitBreaker: { consecutiveFailures: 1000 }',
): string {
  return `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { primary: ${PRIMARY_KEY}, secondary: ${SECONDARY_KEY} }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: primary, namespace: t }
spec:
  type: openai
  endpoint: ${primaryUrl}
  auth: { secretRef: { name: keys, key: primary } }
  ${primaryExtra}
  models:
    - { name: gpt-4o, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, tools, json] }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: secondary, namespace: t }
spec:
  type: openai-compatible
  endpoint: ${secondaryUrl}
  auth: { secretRef: { name: keys, key: secondary } }
  models:
    - { name: backup-model, pricing: { input: 0.1, output: 0.2 }, capabilities: [chat, streaming, tools, json] }
`;
}

export function policyYaml(routeName = 'smart'): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: ${routeName}
      match: { model: ["smart", "gpt-4o*"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
`;
}
