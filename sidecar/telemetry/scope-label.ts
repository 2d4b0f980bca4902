// How a header-scoped budget or rate limit names its scope wherever Turnout writes it — /metrics labels,
// decision logs and spans (through error messages): "header:<name>=<value>" with the value as the caller
// sent it, which can be long, and can be secret even when the header's name does not say so (credential
// headers themselves are refused as scopes by the schema). The value is redacted and cut; a value shown
// other than as sent keeps a short hash of itself, so two callers still make two series.
import { createHash } from 'node:crypto';
import type { SecretRedactor } from './redact.ts';

/** The longest header value a scope shows. */
export const MAX_SCOPE_VALUE_CHARS = 64;

/** `scope` ("policy" or "header:<name>=<value>") as Turnout may print it. */
export function scopeLabel(scope: string, redactor: SecretRedactor | undefined): string {
  const eq = scope.indexOf('=');
  if (eq < 0) return scope;
  const raw = scope.slice(eq + 1);
  const shown = redactor ? redactor.redact(raw) : raw;
  if (shown === raw && raw.length <= MAX_SCOPE_VALUE_CHARS) return scope;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  const cut = shown.length > MAX_SCOPE_VALUE_CHARS ? `${shown.slice(0, MAX_SCOPE_VALUE_CHARS)}…` : shown;
  return `${scope.slice(0, eq + 1)}${cut}#${hash}`;
}
