// Which hostnames transparent mode intercepts. An app that calls a provider's public API directly
// should land on the sidecar: the canonical host of each provider type the pod's policies use, plus
// the public DNS name of every endpoint they name. Loopback, IPs and in-cluster names are left alone —
// the app reaching those is not an LLM provider call we could terminate TLS for. Each name goes onto
// the namespace's leaf certificate, so only exact DNS names qualify: validation (endpointHostProblem)
// already refuses wildcards, and this re-checks rather than trusting every caller to have validated.
import { isIP } from 'node:net';
import { endpointHostProblem, type ProviderType, type SnapshotProvider } from '../../api/index.ts';

/** The host each provider type's SDKs call by default. */
export const CANONICAL_HOSTS: Partial<Record<ProviderType, string>> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
};

/** A leaf must carry at least one name; a namespace with no provider yet gets this one. */
export const PLACEHOLDER_HOST = 'transparent.turnout.invalid';

function publicDnsName(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  if (endpointHostProblem(host) !== undefined) return undefined;
  if (host === 'localhost' || !host.includes('.')) return undefined;
  if (/\.(svc|cluster\.local|local|internal|localhost)$/.test(host)) return undefined;
  return host;
}

/** Sorted, de-duplicated hostnames to intercept for these providers. */
export function transparentHosts(providers: Iterable<Pick<SnapshotProvider, 'type' | 'endpoint'>>): string[] {
  const out = new Set<string>();
  for (const p of providers) {
    const canonical = CANONICAL_HOSTS[p.type];
    if (canonical) out.add(canonical);
    const endpointHost = publicDnsName(p.endpoint);
    if (endpointHost) out.add(endpointHost);
  }
  return [...out].sort();
}
