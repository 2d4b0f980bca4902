// Operational behaviour of the push server: certificate rotation without a restart, and serving only
// while allowed (the leader), dropping streams when that stops.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPushServer } from './index.ts';
import {
  authHeaders,
  eventually,
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  namespaceYaml,
  openStream,
  type TestTls,
} from './testing/index.ts';

let first: TestTls;
let second: TestTls;
let dir: string;

before(async () => {
  [first, second] = await Promise.all([makeTestTls(), makeTestTls()]);
  dir = await mkdtemp(join(tmpdir(), 'turnout-push-serving-'));
});
after(async () => {
  await first.remove();
  await second.remove();
  await rm(dir, { recursive: true, force: true });
});

function setup() {
  const desired = new FakeDesiredState();
  const reviewer = new FakeReviewer();
  desired.apply(namespaceYaml('a', 'sk-a'));
  const pod = desired.addPod('a', 'p1');
  return { desired, reviewer, headers: authHeaders(reviewer.tokenFor(pod), pod) };
}

describe('push server: operations', () => {
  it('picks up a rotated certificate without a restart', async () => {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    await copyFile(first.cert, cert);
    await copyFile(first.key, key);
    const { desired, reviewer, headers } = setup();
    const server = await startPushServer({
      desired,
      tokenReviewer: reviewer.review,
      tls: { cert, key },
      port: 0,
      tlsReloadIntervalMs: 50,
    });
    try {
      const before = await openStream(server.url, first.caFile, headers);
      assert.equal(before.status, 200);
      await before.close();
      await copyFile(second.key, key);
      await copyFile(second.cert, cert);
      await eventually('served with the new certificate', async () => {
        const s = await openStream(server.url, second.caFile, headers).catch(() => undefined);
        await s?.close();
        return s?.status === 200;
      });
    } finally {
      await server.close();
    }
  });

  it('refuses streams while not allowed to serve, and drops open ones when that changes', async () => {
    const { desired, reviewer, headers } = setup();
    let leader = false;
    const server = await startPushServer({
      desired,
      tokenReviewer: reviewer.review,
      tls: { cert: first.cert, key: first.key },
      port: 0,
      pingIntervalMs: 50,
      acceptStreams: () => leader,
    });
    try {
      const refused = await openStream(server.url, first.caFile, headers);
      assert.equal(refused.status, 503);
      assert.match(refused.body, /not_serving/);
      leader = true;
      const s = await openStream(server.url, first.caFile, headers);
      assert.equal(s.status, 200);
      await s.waitFor(() => s.snapshots().length === 1);
      leader = false;
      await s.waitFor((events) => events.some((e) => e.event === 'end'));
      await eventually('disconnected', () => server.reporter.sidecars('a')[0]?.connected === false);
      await s.close();
    } finally {
      await server.close();
    }
  });
});
