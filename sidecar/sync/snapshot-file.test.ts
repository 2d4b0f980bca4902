// The background saver: writes in order, only the newest of those waiting, and a failed write is
// reported without touching the file already there.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Snapshot } from '../../api/index.ts';
import { LatestSaver, type Persisted, SnapshotFile } from './snapshot-file.ts';

const dir = await mkdtemp(join(tmpdir(), 'turnout-saver-'));
after(() => rm(dir, { recursive: true, force: true }));

const value = (revision: number): Persisted => ({
  revision,
  snapshot: { version: `v${revision}` } as unknown as Snapshot,
});

class CountingFile extends SnapshotFile {
  readonly written: number[] = [];
  override async write(v: Persisted): Promise<void> {
    this.written.push(v.revision);
    await super.write(v);
  }
}

describe('LatestSaver', () => {
  it('writes the newest snapshot last, skipping those superseded while a write was running', async () => {
    const file = new CountingFile(join(dir, 'ordered'));
    const saver = new LatestSaver(file, (_, e) => assert.fail(String(e)));
    for (let r = 1; r <= 5; r++) saver.save(value(r));
    await saver.idle();
    assert.deepEqual(file.written, [1, 5]);
    const saved = JSON.parse(await readFile(file.path, 'utf8')) as Persisted;
    assert.equal(saved.revision, 5);
  });

  it('reports a failed write, keeps the last good file, and goes on with the next one', async () => {
    let failNext = false;
    const file = new (class extends SnapshotFile {
      override write(v: Persisted): Promise<void> {
        return failNext ? Promise.reject(new Error('disk full')) : super.write(v);
      }
    })(join(dir, 'failing'));
    const errors: string[] = [];
    const saver = new LatestSaver(file, (path, e) => void errors.push(`${path}: ${String(e)}`));
    const revisionOnDisk = async () => (JSON.parse(await readFile(file.path, 'utf8')) as Persisted).revision;
    saver.save(value(1));
    await saver.idle();
    failNext = true;
    saver.save(value(2));
    await saver.idle();
    assert.deepEqual(errors, [`${file.path}: Error: disk full`]);
    assert.equal(await revisionOnDisk(), 1);
    failNext = false;
    saver.save(value(3));
    await saver.idle();
    assert.equal(await revisionOnDisk(), 3);
  });
});
