// How a header-scoped budget or rate limit names its scope wherever Turnout writes it — /metrics labels,
// decision logs and spans (through error messages), and the operator's RoutingPolicy status.spend:
// "header:<name>=<value>" with the value as the caller sent it, which can be long, and can be secret even
// when the header's name does not say so (credential headers themselves are refused as scopes by the
// schema). The value is redacted and cut; a value shown other than as sent keeps a hash of itself, so two
// callers stay two series, and the operator can tell which raw scope a status entry stands for
// (operator/budgets/spend-aggregate.ts matches on it after a leader change).
import { createHash } from 'node:crypto';
import type { SecretRedactor } from './redact.ts';

/** The longest header value a scope shows. */
export const MAX_SCOPE_VALUE_CHARS = 64;

/**
 * Hex digits of SHA-256 a label keeps: 64 bits, so scopes whose values redact or cut to the same text do
 * not end up with the same label either, even among the thousands of scopes one budget may track.
 */
export const SCOPE_HASH_CHARS = 16;

/** The tail a label with a hash ends in; a value sent that way is shown hashed too, so it cannot pose as one. */
const HASH_TAIL = new RegExp(`#[0-9a-f]{${SCOPE_HASH_CHARS}}$`);

/** `scope` ("policy" or "header:<name>=<value>") as Turnout may print it. */
export function scopeLabel(scope: string, redactor: SecretRedactor | undefined): string {
  const eq = scope.indexOf('=');
  if (eq < 0) return scope;
  const raw = scope.slice(eq + 1);
  const shown = redactor ? redactor.redact(raw) : raw;
  if (shown === raw && raw.length <= MAX_SCOPE_VALUE_CHARS && !HASH_TAIL.test(raw)) return scope;
  const cut = shown.length > MAX_SCOPE_VALUE_CHARS ? `${shown.slice(0, MAX_SCOPE_VALUE_CHARS)}…` : shown;
  return `${scope.slice(0, eq + 1)}${cut}#${valueHash(raw)}`;
}

/** The hash scopeLabel() would give `scope`'s header value; undefined for a scope with none ("policy"). */
export function scopeHash(scope: string): string | undefined {
  const eq = scope.indexOf('=');
  return eq < 0 ? undefined : valueHash(scope.slice(eq + 1));
}

/** The hash a label carries, when it shows its value other than as sent; undefined when it shows it as sent. */
export function labelHash(label: string): string | undefined {
  return HASH_TAIL.test(label) ? label.slice(-SCOPE_HASH_CHARS) : undefined;
}

const valueHash = (raw: string): string =>
  createHash('sha256').update(raw).digest('hex').slice(0, SCOPE_HASH_CHARS);
