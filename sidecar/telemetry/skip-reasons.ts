// Why a candidate target was left out, as a small closed set of values fit for a metric label or a
// span attribute. The skip records carry prose for people; this reads the class back from it, so the
// routing code keeps one message per skip and no second taxonomy to maintain alongside it.

export type SkipReason =
  | 'breaker-open'
  | 'cooling-down'
  | 'constraint'
  | 'capability'
  | 'context-window'
  | 'rate-limited'
  | 'concurrency'
  | 'unsupported'
  | 'not-in-snapshot'
  | 'unsuitable';

const RULES: [RegExp, SkipReason][] = [
  [/^circuit open/, 'breaker-open'],
  [/^cooling down/, 'cooling-down'],
  [/^constraint:/, 'constraint'],
  [/^the model does not declare/, 'capability'],
  [/^context window/, 'context-window'],
  [/^provider (rpm|tpm) limit/, 'rate-limited'],
  [/^provider at maxConcurrent/, 'concurrency'],
  [/^not in the snapshot/, 'not-in-snapshot'],
  [/is not supported by this sidecar/, 'unsupported'],
];

export function skipReason(reason: string): SkipReason {
  for (const [pattern, kind] of RULES) if (pattern.test(reason)) return kind;
  // Whatever else an attempt refused before going upstream (a parameter the target cannot take).
  return 'unsuitable';
}
