// Request paths as provider SDKs send them in transparent mode, mapped onto the sidecar's endpoints.
// OpenAI (/v1/...) and Anthropic (/v1/messages) SDKs already match. Gemini's OpenAI-compatible
// surface lives under /v1beta/openai/; its native generateContent API has no inbound dialect in the
// sidecar yet and is answered with the usual not_found error.
const PREFIXES: readonly [from: string, to: string][] = [['/v1beta/openai/', '/v1/']];

export function rewriteTransparentPath(url: string): string {
  for (const [from, to] of PREFIXES) if (url.startsWith(from)) return to + url.slice(from.length);
  return url;
}
