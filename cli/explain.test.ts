import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { asChatBody, chatFeatures } from '../sidecar/routing/features.ts';
import { buildRuntime } from '../sidecar/snapshot/runtime.ts';
import { loadConfigDir } from './config-dir.ts';
import { explain } from './explain.ts';

const examples = fileURLToPath(new URL('../examples/local', import.meta.url));

async function explainFor(body: object, headers: Record<string, string> = {}) {
  const loaded = await loadConfigDir(examples, { labels: 'all' });
  assert.ok(loaded.snapshot);
  const runtime = buildRuntime(loaded.snapshot, () => ({}));
  const chat = asChatBody(body);
  return explain(runtime, chatFeatures(chat, headers), chat);
}

describe('turnout explain', () => {
  it('names the winning route, why others did not match, and the ordered targets', async () => {
    const out = await explainFor(
      { model: 'smart', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-tenant-tier': 'premium' },
    );
    assert.match(out, /→ route assistant\/premium, strategy priority/);
    assert.match(out, /· assistant\/phi: needs tag sensitivity=phi/);
    assert.match(out, /1\. mock-strong\/large-1 \[simulated\]\n {2}2\. mock-flaky\/medium-1 \(fallback\)/);
  });
  it('says when the default route serves an unknown model', async () => {
    const out = await explainFor({ model: 'something-else', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(out, /→ route assistant\/cheap \(defaultRoute\)/);
  });
  it('routes a request tagged sensitive to the compliant route only', async () => {
    const out = await explainFor(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-turnout-tags': 'sensitivity=phi' },
    );
    assert.match(out, /→ route assistant\/phi/);
    assert.doesNotMatch(out, /mock-cheap/, 'the non-hipaa provider is not a candidate');
  });
});
