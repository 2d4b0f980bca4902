// The container images' fixed settings must match what the code that reasons about them says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sidecarNodeEnv } from '../../sidecar/node-options.ts';

const dockerfile = readFileSync(new URL('../../images/sidecar.Dockerfile', import.meta.url), 'utf8');

/** `KEY=value` pairs of the final stage's ENV lines (values unquoted). */
function finalStageEnv(text: string): Record<string, string> {
  const stages = text.split(/^FROM /m);
  const env: Record<string, string> = {};
  for (const line of (stages.at(-1) ?? '').split('\n')) {
    if (!line.startsWith('ENV ')) continue;
    for (const m of line.slice(4).matchAll(/(\w+)=("([^"]*)"|\S+)/g))
      env[m[1] as string] = m[3] ?? (m[2] as string);
  }
  return env;
}

describe('sidecar image', () => {
  it('runs Node with the settings sidecar/node-options.ts gives a sidecar with no known memory limit', () => {
    const env = finalStageEnv(dockerfile);
    const expected = sidecarNodeEnv();
    assert.equal(env.NODE_OPTIONS, expected.NODE_OPTIONS);
    assert.equal(env.MALLOC_ARENA_MAX, expected.MALLOC_ARENA_MAX);
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, expected.MALLOC_MMAP_THRESHOLD_);
  });
});

describe('sidecarNodeEnv', () => {
  it('caps the old generation at half the memory limit, never below 64 MB', () => {
    assert.match(sidecarNodeEnv(256 * 2 ** 20).NODE_OPTIONS, /--max-old-space-size=128(\s|$)/);
    assert.match(sidecarNodeEnv(64 * 2 ** 20).NODE_OPTIONS, /--max-old-space-size=64(\s|$)/);
    assert.doesNotMatch(sidecarNodeEnv().NODE_OPTIONS, /max-old-space-size/);
    assert.doesNotMatch(sidecarNodeEnv(0).NODE_OPTIONS, /max-old-space-size/);
  });
});
