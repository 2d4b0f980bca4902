// Manifests for sidecar-tier tests: real provider types pointed at fake upstreams on loopback.
import * as manifest from '../helpers/manifests.ts';

export const PRIMARY_KEY = 'sk-test-primary-0123456789';
export const SECONDARY_KEY = 'sk-test-secondary-9876543210';

/** Failover tests fail the primary many times in a row; its breaker threshold is raised so it stays closed. */
export function providersYaml(
  primaryUrl: string,
  secondaryUrl: string,
  primaryExtra = 'circuitBreaker: { consecutiveFailures: 1000 }',
): string {
  return manifest.file(
    manifest.secret({ primary: PRIMARY_KEY, secondary: SECONDARY_KEY }),
    manifest.modelProvider({
      name: 'primary',
      type: 'openai',
      endpoint: primaryUrl,
      key: 'primary',
      extra: primaryExtra,
      models:
        '[{ name: gpt-4o, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, tools, json] }]',
    }),
    manifest.modelProvider({
      name: 'secondary',
      type: 'openai-compatible',
      endpoint: secondaryUrl,
      key: 'secondary',
      models:
        '[{ name: backup-model, pricing: { input: 0.1, output: 0.2 }, capabilities: [chat, streaming, tools, json] }]',
    }),
  );
}

export function policyYaml(routeName = 'smart'): string {
  return manifest.routingPolicy(`
    - name: ${routeName}
      match: { model: ["smart", "gpt-4o*"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]`);
}
