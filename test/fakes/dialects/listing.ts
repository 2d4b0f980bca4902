import type { Exchange } from '../answer.ts';
import type { Route } from './dialect.ts';

/** A GET route that never takes scripted steps; `model` carries the id in the path, if any. */
export function listingRoute(endpoint: string, json: (id: string) => unknown, id = ''): Route {
  return {
    endpoint,
    scripted: false,
    parse: (body): Exchange => ({
      endpoint,
      model: id,
      stream: false,
      promptChars: 0,
      lastUserText: '',
      hasTools: false,
      includeUsage: false,
      body,
      cacheKey: undefined,
    }),
    json: (_answer, ex) => json(ex.model),
  };
}
