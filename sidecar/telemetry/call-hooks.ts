import type { SecretRedactor } from './redact.ts';

/** What the request path needs from telemetry, decided once per sidecar, read once per call. */
export interface CallHooks {
  /** Spans are recorded: keep the few extra facts only a span shows (the candidate list). */
  traced: boolean;
  /** Prompts and completions go on spans. */
  captureContent: boolean;
  redactor: SecretRedactor;
}
