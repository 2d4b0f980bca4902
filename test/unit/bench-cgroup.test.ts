// Where the memory-limit benchmark makes its cgroups, and how it starts a process inside one: the v1
// memory controller's line wins on hybrid hosts, pure v2 hosts use the unified line, and the launcher
// prefix keeps the node command line intact after it.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memoryCgroupOf } from '../../bench/cgroup.ts';
import { nodeCommand } from '../../bench/processes.ts';

describe('bench memory cgroups', () => {
  it('uses the v1 memory controller when the process has one', () => {
    const proc = ['5:cpu,cpuacct:/', '4:memory:/kubepods/pod1/abc', '0::/'].join('\n');
    assert.deepEqual(memoryCgroupOf(proc, '/sys/fs/cgroup'), {
      version: 1,
      dir: '/sys/fs/cgroup/memory/kubepods/pod1/abc',
    });
  });

  it('finds a memory controller listed together with others', () => {
    assert.deepEqual(memoryCgroupOf('3:blkio,memory:/x\n', '/cg'), { version: 1, dir: '/cg/memory/x' });
  });

  it('uses the unified hierarchy on a pure v2 host', () => {
    const root = mkdtempSync(join(tmpdir(), 'turnout-cg-'));
    assert.deepEqual(memoryCgroupOf('0::/user.slice/session-1.scope\n', root), {
      version: 2,
      dir: join(root, 'user.slice/session-1.scope'),
    });
  });

  it('uses the unified mount of a hybrid host when there is no v1 memory line', () => {
    const root = mkdtempSync(join(tmpdir(), 'turnout-cg-'));
    mkdirSync(join(root, 'unified'));
    writeFileSync(join(root, 'unified', 'cgroup.controllers'), 'memory pids\n');
    assert.deepEqual(memoryCgroupOf('1:cpu:/\n0::/a\n', root), { version: 2, dir: join(root, 'unified/a') });
  });

  it('says why when the process has no cgroup at all', () => {
    const why = memoryCgroupOf('', '/sys/fs/cgroup');
    assert.equal(typeof why, 'string');
    assert.match(why as string, /no memory cgroup/);
  });
});

describe('bench node command line', () => {
  it('runs this node with its flags and the script by default', () => {
    assert.deepEqual(nodeCommand({ nodeArgs: ['--no-warnings'] }, ['s.js', 'a']), [
      process.execPath,
      ['--no-warnings', 's.js', 'a'],
    ]);
  });

  it('puts a launcher in front and runs the given binary', () => {
    const launcher = ['/bin/sh', '-c', 'exec "$@"', 'x'];
    assert.deepEqual(nodeCommand({ launcher, execPath: '/opt/node' }, ['s.js']), [
      '/bin/sh',
      ['-c', 'exec "$@"', 'x', '/opt/node', 's.js'],
    ]);
  });
});
