// Typed reads of the scalar OpenAI request fields both non-OpenAI writers map. A wrongly typed value is
// refused with its name rather than dropped: OpenAI itself would refuse it, and silently ignoring
// "temperature": "0.2" would change the answer without telling anyone.
import { InvalidRequest } from './errors.ts';
import type { JsonObject } from './json.ts';

export function optionalNumber(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidRequest(key, 'must be a number');
  return value;
}

export function optionalCount(body: JsonObject, key: string): number | undefined {
  const value = optionalNumber(body, key);
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new InvalidRequest(key, 'must be a positive integer');
  }
  return value;
}

/** max_completion_tokens (current) wins over max_tokens (deprecated but still common). */
export function maxOutputTokens(body: JsonObject): number | undefined {
  return optionalCount(body, 'max_completion_tokens') ?? optionalCount(body, 'max_tokens');
}

export function stopSequences(body: JsonObject): string[] | undefined {
  const stop = body.stop;
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) {
    return stop.length > 0 ? stop : undefined;
  }
  throw new InvalidRequest('stop', 'must be a string or an array of strings');
}

export function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidRequest(key, 'must be a string');
  return value;
}
