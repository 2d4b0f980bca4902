import assert from 'node:assert/strict';
import { it } from 'node:test';
import { skipReason } from './skip-reasons.ts';

it('classifies the skip messages routing writes', () => {
  const cases: [string, string][] = [
    ['circuit open until 2026-01-01T00:00:00.000Z', 'breaker-open'],
    ['constraint: provider tags do not match', 'constraint'],
    ['the model does not declare the embeddings capability', 'capability'],
    ['context window: the request needs ~9000 tokens, the model has 8192', 'context-window'],
    ['context window smaller than one an upstream already found too short', 'context-window'],
    ['provider rpm limit reached', 'rate-limited'],
    ['provider tpm limit reached', 'rate-limited'],
    ['provider at maxConcurrent (4)', 'concurrency'],
    ['not in the snapshot', 'not-in-snapshot'],
    ['provider type foo is not supported by this sidecar version', 'unsupported'],
    ['the provider refuses the logprobs parameter', 'unsuitable'],
  ];
  for (const [message, reason] of cases) assert.equal(skipReason(message), reason, message);
});
