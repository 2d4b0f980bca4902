import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchedLines } from './line-output.ts';

function sink() {
  const writes: string[] = [];
  return { writes, write: (chunk: string) => writes.push(chunk) };
}

describe('BatchedLines', () => {
  it('writes queued lines together, in order, once the flush interval passes', async () => {
    const out = sink();
    const lines = new BatchedLines(out, { flushMs: 10 });
    lines.line('a');
    lines.line('b');
    assert.deepEqual(out.writes, []);
    await sleep(40);
    assert.deepEqual(out.writes, ['a\nb\n']);
    lines.line('c');
    await sleep(40);
    assert.deepEqual(out.writes, ['a\nb\n', 'c\n']);
  });

  it('writes at once when maxLines are waiting', () => {
    const out = sink();
    const lines = new BatchedLines(out, { flushMs: 60_000, maxLines: 3 });
    for (const l of ['1', '2', '3', '4']) lines.line(l);
    assert.deepEqual(out.writes, ['1\n2\n3\n']);
    lines.flush();
    assert.deepEqual(out.writes, ['1\n2\n3\n', '4\n']);
    lines.flush();
    assert.equal(out.writes.length, 2, 'an empty flush writes nothing');
  });

  it('loses no line when the process exits with lines still queued', () => {
    const script = `
      import { stdoutBatch } from ${JSON.stringify(new URL('./line-output.ts', import.meta.url).href)};
      for (let i = 0; i < 1000; i++) stdoutBatch().line('line ' + i);
      process.exitCode = 3;`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stderr);
    const got = r.stdout.trimEnd().split('\n');
    assert.equal(got.length, 1000);
    assert.equal(got[999], 'line 999');
  });
});
