// Test-only: the manifests push/sync tests publish.
/**
 * A namespace with one SIMULATED (mock) provider keyed by `key`, and a policy whose route `route`
 * serves model "chat". A second policy, for pods labelled app=other only, brings a second provider and key.
 */
export function namespaceYaml(ns: string, key: string, route = 'main'): string {
  return `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: ${ns} }
stringData: { main: ${key}, other: ${key}-other }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: sim, namespace: ${ns} }
spec:
  type: mock
  auth: { secretRef: { name: keys, key: main } }
  models: [{ name: m1, capabilities: [chat, streaming] }]
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: other, namespace: ${ns} }
spec:
  type: mock
  auth: { secretRef: { name: keys, key: other } }
  models: [{ name: m2, capabilities: [chat, streaming] }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: ${ns} }
spec:
  routes:
    - name: ${route}
      match: { model: [chat] }
      targets: [{ provider: sim, model: m1 }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: other-app, namespace: ${ns} }
spec:
  workloadSelector: { matchLabels: { app: other } }
  routes:
    - name: other
      match: { model: [other] }
      targets: [{ provider: other, model: m2 }]
`;
}
