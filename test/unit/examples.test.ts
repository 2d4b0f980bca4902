import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfigDir } from '../../cli/config-dir.ts';

const dir = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

describe('bundled examples', () => {
  for (const name of ['local', 'cloud']) {
    it(`examples/${name} compiles without errors`, async () => {
      const loaded = await loadConfigDir(dir(name), { labels: 'all' });
      assert.deepEqual(
        loaded.diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      assert.ok(loaded.snapshot && loaded.snapshot.policies.length > 0);
    });
  }

  it('the local set is offline: every provider is simulated', async () => {
    const loaded = await loadConfigDir(dir('local'), { labels: 'all' });
    assert.ok(loaded.snapshot?.providers.every((p) => p.simulated && p.endpoint === undefined));
  });

  it('the cloud set points at real https endpoints with secretRefs', async () => {
    const loaded = await loadConfigDir(dir('cloud'), { labels: { app: 'support-bot' } });
    const types = new Set(loaded.snapshot?.providers.map((p) => p.type));
    assert.deepEqual([...types].sort(), ['anthropic', 'gemini', 'openai']);
    for (const p of loaded.snapshot?.providers ?? []) {
      assert.match(p.endpoint ?? '', /^https:\/\//);
      assert.ok(p.credential, `${p.name} has a credential`);
    }
    assert.deepEqual(
      loaded.snapshot?.policies.map((p) => p.name),
      ['support-bot', 'batch-jobs'],
    );
  });
});
