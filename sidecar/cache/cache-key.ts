// What makes two requests "the same" for the exact-match response cache, and which may be cached.
import { createHash } from 'node:crypto';

/** Bump when the key's construction changes, so old and new keys can never collide. */
const KEY_VERSION = 'turnout-cache/1';

/**
 * Body fields that do not change the answer, left out of the key:
 * - `stream`: not ignored really — the stream flag is part of the key on its own (a stream answer is
 *   stored as SSE frames, a JSON answer as a body, and neither is converted into the other);
 * - `user`, `metadata`: attribution / end-user ids for the provider, not input to the model;
 * - `stream_options`: only for non-stream requests. For streams it stays in the key, because
 *   `include_usage` decides whether the replayed frames carry a usage chunk.
 */
const IGNORED = new Set(['stream', 'stream_options', 'user', 'metadata']);

/**
 * The cache key: sha256 (hex) over the route identity, the API surface, the stream flag and the body
 * minus the fields above.
 * - routeKey: whatever identifies the route across reloads (e.g. "namespace/policy/route"); include a
 *   fingerprint of its targets if a change of targets should invalidate what was cached.
 * - api: the inbound surface (e.g. "openai.chat", "anthropic.messages"): the cached answer is in the
 *   caller's dialect, and equal bodies on different surfaces ask for different answers.
 * Top-level fields are sorted (their order never matters); nested values are hashed as given, because
 * order inside them can matter to the model (messages; property order of a JSON schema, which
 * structured outputs follow). A differently ordered nested object is a miss, never a wrong hit.
 */
export function cacheKey(routeKey: string, api: string, body: Readonly<Record<string, unknown>>): string {
  const stream = body.stream === true;
  const hash = createHash('sha256').update(JSON.stringify([KEY_VERSION, routeKey, api, stream]));
  for (const k of Object.keys(body).sort()) {
    if (IGNORED.has(k) && !(stream && k === 'stream_options')) continue;
    const v = body[k];
    if (v === undefined) continue;
    // JSON strings are self-delimiting, so name:value pairs cannot run into one another.
    hash.update(`,${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return hash.digest('hex');
}

/**
 * Whether a request's answer may be cached, by its body alone. The rule is LiteLLM's for exact-match
 * caching: sampling settings (temperature > 0, n > 1, no seed) do not prevent caching — a route owner
 * who turns `cache` on accepts that an identical request replays an earlier answer. Excluded:
 * - `store: true`: the caller asked the provider to keep this completion; a hit would skip that.
 * - anything that is not a JSON object.
 * Header opt-outs (`x-turnout-cache: no-store`) and the answer's success are the caller's to check.
 */
export function cacheable(body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  return (body as { store?: unknown }).store !== true;
}
