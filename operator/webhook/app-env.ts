// What the app containers get. Explicit mode: SDK base URLs pointing at the sidecar. Transparent
// mode: nothing about URLs (the app keeps calling api.openai.com) but trust in the mesh CA. Both:
// placeholder API keys, because SDKs refuse to start without one and the sidecar ignores them anyway
// (provider keys come from ModelProvider Secrets, never from the caller). A variable the container
// already sets in `env` is never touched.
import type { SidecarConfig } from './config.ts';
import { PATHS } from './sidecar-spec.ts';
import type { Mode } from './pod.ts';

export const PLACEHOLDER_KEY = 'turnout-sidecar-ignores-this-key';

export function appEnv(cfg: SidecarConfig, mode: Mode): { name: string; value: string }[] {
  const base = `http://127.0.0.1:${cfg.port}`;
  const keys = [
    { name: 'OPENAI_API_KEY', value: PLACEHOLDER_KEY },
    { name: 'ANTHROPIC_API_KEY', value: PLACEHOLDER_KEY },
  ];
  if (mode === 'explicit') {
    return [
      { name: 'TURNOUT_SIDECAR_URL', value: base },
      { name: 'OPENAI_BASE_URL', value: `${base}/v1` },
      // The pre-1.0 openai Python SDK and LangChain read this name.
      { name: 'OPENAI_API_BASE', value: `${base}/v1` },
      { name: 'ANTHROPIC_BASE_URL', value: base },
      ...keys,
    ];
  }
  // SSL_CERT_FILE and friends replace a client's trust store, so they get public roots + mesh CA;
  // NODE_EXTRA_CA_CERTS adds to Node's own store, so it gets the mesh CA alone.
  const bundle = `${PATHS.ca}/bundle.crt`;
  return [
    { name: 'TURNOUT_SIDECAR_URL', value: base },
    { name: 'SSL_CERT_FILE', value: bundle },
    { name: 'REQUESTS_CA_BUNDLE', value: bundle },
    { name: 'CURL_CA_BUNDLE', value: bundle },
    { name: 'NODE_EXTRA_CA_CERTS', value: `${PATHS.ca}/mesh-ca.crt` },
    ...keys,
  ];
}
