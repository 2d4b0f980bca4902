// The push server's protocol: what a pod is sent and when, ACK/NACK bookkeeping, and above all that a
// sidecar only ever receives its own pod's snapshot.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Snapshot } from '../../api/index.ts';
import { startPushServer, type RunningPushServer } from './index.ts';
import {
  authHeaders,
  eventually,
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  namespaceYaml,
  openStream,
  postAck,
  type RawStream,
  type TestTls,
} from './testing/index.ts';

let tls: TestTls;
let desired: FakeDesiredState;
let reviewer: FakeReviewer;
let server: RunningPushServer;
const streams: RawStream[] = [];

before(async () => {
  tls = await makeTestTls();
});
after(async () => {
  await tls.remove();
});

async function start(opts: { debounceMs?: number; maxDebounceMs?: number } = {}) {
  desired = new FakeDesiredState();
  reviewer = new FakeReviewer();
  server = await startPushServer({
    desired,
    tokenReviewer: reviewer.review,
    tls: { cert: tls.cert, key: tls.key },
    port: 0,
    debounceMs: opts.debounceMs ?? 20,
    maxDebounceMs: opts.maxDebounceMs ?? 200,
  });
}

async function stop() {
  for (const s of streams.splice(0)) await s.close();
  await server.close();
}

async function connect(headers: Record<string, string>) {
  const s = await openStream(server.url, tls.caFile, headers);
  streams.push(s);
  return s;
}

const ack = (headers: Record<string, string>, body: unknown) =>
  postAck(server.url, tls.caFile, headers, typeof body === 'string' ? body : JSON.stringify(body));

const lastSnapshot = (s: RawStream): Snapshot => {
  const all = s.snapshots();
  const last = all[all.length - 1];
  assert.ok(last, 'a snapshot was sent');
  return last.snapshot;
};
const routeOf = (snap: Snapshot) => snap.policies[0]?.routes[0]?.name;

describe('push server: snapshots', () => {
  beforeEach(() => start());
  afterEach(stop);

  it('sends the pod its snapshot at once, then a new version on every change', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1', { app: 'web' });
    const s = await connect(authHeaders(reviewer.tokenFor(pod), pod));
    assert.equal(s.status, 200);
    await s.waitFor(() => s.snapshots().length === 1);
    assert.equal(s.events[0]?.event, 'ping', 'a ping opens the stream');
    const first = s.snapshots()[0];
    assert.equal(first?.revision, desired.revision('a'));
    assert.equal(routeOf(lastSnapshot(s)), 'main');

    desired.apply(namespaceYaml('a', 'sk-a', 'renamed'));
    await s.waitFor(() => s.snapshots().length === 2);
    assert.equal(routeOf(lastSnapshot(s)), 'renamed');
    assert.notEqual(s.snapshots()[1]?.snapshot.version, first?.snapshot.version);

    // A change that leaves this pod's snapshot as it was (another pod appears) sends nothing.
    desired.addPod('a', 'p2');
    await sleep(150);
    assert.equal(s.snapshots().length, 2);
  });

  it('sends nothing when the sidecar already has the version, and counts it as synced', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const first = await connect(authHeaders(reviewer.tokenFor(pod), pod));
    await first.waitFor(() => first.snapshots().length === 1);
    const version = lastSnapshot(first).version;
    await first.close();

    const again = await connect({
      ...authHeaders(reviewer.tokenFor(pod), pod),
      'x-turnout-have': version,
      'x-turnout-revision': String(desired.revision('a')),
    });
    await sleep(200);
    assert.deepEqual(
      again.events.map((e) => e.event),
      ['ping'],
    );
    const [state] = server.reporter.sidecars('a');
    assert.equal(state?.connected, true);
    assert.equal(state?.ackedVersion, version);
  });

  it('debounces a burst: 10 edits in 50 ms give at most 2 pushes, the last one current', async () => {
    await server.close();
    await start({ debounceMs: 100, maxDebounceMs: 1000 });
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const s = await connect(authHeaders(reviewer.tokenFor(pod), pod));
    await s.waitFor(() => s.snapshots().length === 1);
    for (let i = 0; i < 10; i++) {
      desired.apply(namespaceYaml('a', 'sk-a', `edit-${i}`));
      await sleep(5);
    }
    await sleep(600);
    const pushes = s.snapshots().slice(1);
    assert.ok(pushes.length >= 1 && pushes.length <= 2, `${pushes.length} pushes`);
    assert.equal(routeOf(lastSnapshot(s)), 'edit-9');
  });

  it('holds back a snapshot older than the revision the sidecar reports', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const s = await connect({
      ...authHeaders(reviewer.tokenFor(pod), pod),
      'x-turnout-have': `sha256:${'0'.repeat(64)}`,
      'x-turnout-revision': String(desired.revision('a') + 100),
    });
    await sleep(150);
    assert.equal(s.snapshots().length, 0, 'a lagging server must not roll the sidecar back');
    for (let i = 0; i < 101; i++) desired.addPod('a', `filler-${i}`);
    desired.apply(namespaceYaml('a', 'sk-a', 'newer'));
    await s.waitFor(() => s.snapshots().length === 1);
    assert.equal(routeOf(lastSnapshot(s)), 'newer');
  });

  it('ends the stream when the pod is gone', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const s = await connect(authHeaders(reviewer.tokenFor(pod), pod));
    await s.waitFor(() => s.snapshots().length === 1);
    desired.removePod('a', 'p1');
    await s.waitFor((events) => events.some((e) => e.event === 'end'));
    await eventually('pruned from status', () => server.reporter.sidecars('a').length === 0);
  });
});

describe('push server: ACK and NACK', () => {
  beforeEach(() => start());
  afterEach(stop);

  it('records ACKs and NACKs per pod; a NACKed version leaves the acked one in place', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1', { app: 'web' });
    const headers = authHeaders(reviewer.tokenFor(pod), pod);
    const changes: string[] = [];
    server.reporter.onChange((ns) => changes.push(ns));
    const s = await connect(headers);
    await s.waitFor(() => s.snapshots().length === 1);
    const v1 = s.snapshots()[0] as { revision: number; snapshot: Snapshot };
    assert.equal(server.reporter.sidecars('a')[0]?.ackedVersion, undefined);

    const ok = await ack(headers, { version: v1.snapshot.version, revision: v1.revision, ok: true });
    assert.equal(ok.status, 200);
    assert.equal(server.reporter.sidecars('a')[0]?.ackedVersion, v1.snapshot.version);
    assert.deepEqual(server.reporter.sidecars('a')[0]?.labels, { app: 'web' });

    desired.apply(namespaceYaml('a', 'sk-a', 'v2'));
    await s.waitFor(() => s.snapshots().length === 2);
    const v2 = s.snapshots()[1] as { revision: number; snapshot: Snapshot };
    const nack = await ack(headers, {
      version: v2.snapshot.version,
      revision: v2.revision,
      ok: false,
      error: 'bad thing',
    });
    assert.equal(nack.status, 200);
    const state = server.reporter.sidecars('a')[0];
    assert.equal(state?.ackedVersion, v1.snapshot.version, 'still serving v1');
    assert.deepEqual(state?.rejected, { version: v2.snapshot.version, message: 'bad thing' });
    assert.ok(changes.includes('a'));

    desired.apply(namespaceYaml('a', 'sk-a', 'v3'));
    await s.waitFor(() => s.snapshots().length === 3);
    const v3 = s.snapshots()[2] as { revision: number; snapshot: Snapshot };
    await ack(headers, { version: v3.snapshot.version, revision: v3.revision, ok: true });
    const fixed = server.reporter.sidecars('a')[0];
    assert.equal(fixed?.ackedVersion, v3.snapshot.version);
    assert.equal(fixed?.rejected, undefined, 'a newer ACK clears the old rejection');

    await s.close();
    await eventually('disconnected', () => server.reporter.sidecars('a')[0]?.connected === false);
  });

  it('refuses an ACK for a version it never sent, and malformed ACKs, without falling over', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const headers = authHeaders(reviewer.tokenFor(pod), pod);
    const unknown = await ack(headers, { version: `sha256:${'1'.repeat(64)}`, revision: 1, ok: true });
    assert.equal(unknown.status, 409);
    assert.equal((unknown.json as { error: { code: string } }).error.code, 'unknown_version');
    for (const [body, status] of [
      ['{not json', 400],
      ['[]', 400],
      [JSON.stringify({ version: 'x', revision: -1, ok: true }), 400],
      [JSON.stringify({ version: 'x', revision: 1, ok: 'yes' }), 400],
      [JSON.stringify({ version: 'x', revision: 1, ok: true, extra: 1 }), 400],
      ['x'.repeat(100_000), 413],
    ] as const) {
      const r = await ack(headers, body);
      assert.equal(r.status, status, `${body.slice(0, 40)} → ${JSON.stringify(r.json)}`);
      assert.equal(typeof (r.json as { error?: { message?: unknown } }).error?.message, 'string');
    }
    const get = await fetch(`${server.url}/healthz`, { method: 'GET' }).catch(() => undefined);
    assert.equal(get, undefined, 'plain http is not served');
    const health = await postAck(server.url.replace(/\/$/, ''), tls.caFile, headers, '').catch(
      () => undefined,
    );
    assert.ok(health, 'server still answers');
  });
});

describe('push server: metrics', () => {
  beforeEach(() => start());
  afterEach(stop);

  it('counts connected sidecars, pushes, ACK latency and NACKs', async () => {
    desired.apply(namespaceYaml('a', 'sk-a'));
    const pod = desired.addPod('a', 'p1');
    const headers = authHeaders(reviewer.tokenFor(pod), pod);
    const s = await connect(headers);
    await s.waitFor(() => s.snapshots().length === 1);
    const v1 = s.snapshots()[0] as { revision: number; snapshot: Snapshot };
    await ack(headers, { version: v1.snapshot.version, revision: v1.revision, ok: true });
    desired.apply(namespaceYaml('a', 'sk-a', 'v2'));
    await s.waitFor(() => s.snapshots().length === 2);
    const v2 = s.snapshots()[1] as { revision: number; snapshot: Snapshot };
    await ack(headers, { version: v2.snapshot.version, revision: v2.revision, ok: false, error: 'no' });
    const text = await server.metrics.metrics();
    assert.match(text, /^turnout_push_connected_sidecars 1$/m);
    assert.match(text, /^turnout_push_snapshots_sent_total 2$/m);
    assert.match(text, /^turnout_push_nacks_total 1$/m);
    assert.match(text, /^turnout_push_ack_latency_seconds_count\{result="ack"\} 1$/m);
    assert.match(text, /^turnout_push_ack_latency_seconds_count\{result="nack"\} 1$/m);
  });
});
