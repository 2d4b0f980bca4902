import { TurnoutError } from '../errors.ts';
import type { RequestFeatures } from './features.ts';
import type { RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';

/**
 * The longest model name a caller may send. Real ids are far shorter: Hugging Face repo ids
 * ("org/name") stop at 96 characters, Azure deployment names at 64, OpenAI fine-tunes
 * ("ft:gpt-4o-mini-2024-07-18:org:suffix:id", suffix ≤ 64) and Bedrock or Vertex resource names
 * ("arn:aws:bedrock:…", "projects/…/endpoints/…") stay near 100. Without a bound, a caller's name —
 * up to the whole body — is matched against every glob and echoed in errors and logs.
 */
export const MAX_MODEL_NAME_LENGTH = 256;

/** First route (in policy precedence, then declaration order) whose match accepts the request. */
export function matchRoute(snapshot: RuntimeSnapshot, f: RequestFeatures): RuntimeRoute | undefined {
  if (f.model.length > MAX_MODEL_NAME_LENGTH) {
    throw new TurnoutError(
      'invalid_request',
      `model: ${f.model.length} characters is longer than any model id (at most ${MAX_MODEL_NAME_LENGTH}); send the model's id or a route's model name`,
      { param: 'model' },
    );
  }
  // Only routes whose model patterns accept the name can match; that set is indexed per model name.
  return snapshot.routesFor(f.model).first(f) ?? snapshot.defaultRoute;
}

/** One route's verdict, checked the plain way (explain, and the reference the index is tested against). */
export function routeAccepts(r: RuntimeRoute, f: RequestFeatures): boolean {
  return r.matchModel(f.model) && acceptsBesidesModel(r, f);
}

function acceptsBesidesModel(r: RuntimeRoute, f: RequestFeatures): boolean {
  const m = r.route.match;
  for (const [name, value] of r.headerEntries) if (f.headers[name] !== value) return false;
  for (const [key, value] of r.tagEntries) if (f.tags[key] !== value) return false;
  if (m.promptTokensMax !== undefined && f.promptTokens > m.promptTokensMax) return false;
  if (m.promptTokensMin !== undefined && f.promptTokens < m.promptTokensMin) return false;
  for (const c of m.requires) if (!f.requires.includes(c)) return false;
  return true;
}
