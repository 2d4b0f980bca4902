// Who may receive what: a sidecar gets its own pod's snapshot or nothing. Tokens are stand-ins here (the
// real TokenReview is exercised in test/controlplane/push-auth.test.ts); the checks around them are real.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startPushServer, type RunningPushServer } from './index.ts';
import {
  authHeaders,
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
const logged: string[] = [];

before(async () => {
  tls = await makeTestTls();
});
after(() => tls.remove());

beforeEach(async () => {
  desired = new FakeDesiredState();
  reviewer = new FakeReviewer();
  server = await startPushServer({
    desired,
    tokenReviewer: reviewer.review,
    tls: { cert: tls.cert, key: tls.key },
    port: 0,
    debounceMs: 10,
    reviewCacheTtlMs: 60_000,
    log: (event, fields) => logged.push(JSON.stringify({ event, ...fields })),
  });
  desired.apply(namespaceYaml('team-a', 'sk-team-a-secret'));
  desired.apply(namespaceYaml('team-b', 'sk-team-b-secret'));
});

afterEach(async () => {
  for (const s of streams.splice(0)) await s.close();
  await server.close();
});

async function connect(headers: Record<string, string>) {
  const s = await openStream(server.url, tls.caFile, headers);
  streams.push(s);
  return s;
}

function errorCode(s: RawStream): string {
  return (JSON.parse(s.body) as { error: { code: string } }).error.code;
}

describe('push server: pod isolation', () => {
  it('refuses a token of pod A claiming to be pod B (same namespace, and across namespaces)', async () => {
    const a = desired.addPod('team-a', 'a1');
    desired.addPod('team-a', 'a2');
    desired.addPod('team-b', 'a1');
    const token = reviewer.tokenFor(a);
    for (const claim of ['team-a/a2', 'team-b/a1']) {
      const s = await connect({ authorization: `Bearer ${token}`, 'x-turnout-pod': claim });
      assert.equal(s.status, 403, claim);
      assert.equal(errorCode(s), 'forbidden');
    }
    const ack = await postAck(
      server.url,
      tls.caFile,
      { authorization: `Bearer ${token}`, 'x-turnout-pod': 'team-b/a1' },
      JSON.stringify({ version: 'x', revision: 1, ok: false, error: 'spoof' }),
    );
    assert.equal(ack.status, 403, 'nor may it ACK for another pod');
    assert.deepEqual(server.reporter.sidecars('team-b'), []);
  });

  it('gives a pod in namespace B only B’s snapshot, and only the credentials its policies use', async () => {
    const b = desired.addPod('team-b', 'web', { app: 'web' });
    const s = await connect(authHeaders(reviewer.tokenFor(b), b));
    await s.waitFor(() => s.snapshots().length === 1);
    const { snapshot } = s.snapshots()[0] ?? assert.fail();
    assert.equal(snapshot.namespace, 'team-b');
    assert.deepEqual(snapshot.credentials, { sim: 'sk-team-b-secret' });
    assert.deepEqual(
      snapshot.policies.map((p) => `${p.namespace}/${p.name}`),
      ['team-b/app'],
    );
    const raw = s.events.map((e) => e.data).join('\n');
    assert.doesNotMatch(raw, /team-a/);
    assert.doesNotMatch(raw, /sk-team-b-secret-other/, 'the other policy’s key is not for this pod');

    const other = desired.addPod('team-b', 'other', { app: 'other' });
    const o = await connect(authHeaders(reviewer.tokenFor(other), other));
    await o.waitFor(() => o.snapshots().length === 1);
    assert.deepEqual(o.snapshots()[0]?.snapshot.credentials, {
      other: 'sk-team-b-secret-other',
      sim: 'sk-team-b-secret',
    });
  });

  it('refuses tokens that are missing, unknown, not pod-bound, or of an earlier pod with the same name', async () => {
    const pod = desired.addPod('team-a', 'p');
    const unbound = reviewer.tokenFor(pod, { bound: false });
    const stale = reviewer.tokenFor(pod);
    desired.addPod('team-a', 'p'); // recreated: a new uid
    const cases: [Record<string, string>, number, string][] = [
      [{ 'x-turnout-pod': 'team-a/p' }, 401, 'unauthenticated'],
      [{ authorization: 'Basic abc', 'x-turnout-pod': 'team-a/p' }, 401, 'unauthenticated'],
      [{ authorization: 'Bearer nope', 'x-turnout-pod': 'team-a/p' }, 401, 'unauthenticated'],
      [{ authorization: `Bearer ${unbound}`, 'x-turnout-pod': 'team-a/p' }, 403, 'forbidden'],
      [{ authorization: `Bearer ${stale}`, 'x-turnout-pod': 'team-a/p' }, 403, 'forbidden'],
      [{ authorization: `Bearer ${stale}`, 'x-turnout-pod': 'not a pod' }, 400, 'bad_request'],
      [{ authorization: `Bearer ${stale}` }, 400, 'bad_request'],
    ];
    for (const [headers, status, code] of cases) {
      const s = await connect(headers);
      assert.equal(s.status, status, JSON.stringify(headers));
      assert.equal(errorCode(s), code);
    }
    const unknownPod = desired.addPod('team-a', 'q');
    desired.removePod('team-a', 'q');
    const s = await connect(authHeaders(reviewer.tokenFor(unknownPod), unknownPod));
    assert.equal(s.status, 403, 'a pod the reconciler does not know (not injected) gets nothing');
  });

  it('validates the resync headers before anything else', async () => {
    const pod = desired.addPod('team-a', 'p');
    for (const extra of [{ 'x-turnout-have': 'v1' }, { 'x-turnout-revision': '-3' }] as Record<
      string,
      string
    >[]) {
      const s = await connect({ ...authHeaders(reviewer.tokenFor(pod), pod), ...extra });
      assert.equal(s.status, 400);
    }
  });
});

describe('push server: token reviews', () => {
  it('caches a successful review by token hash, never a refusal, and says 503 when it cannot review', async () => {
    const pod = desired.addPod('team-a', 'p');
    const token = reviewer.tokenFor(pod);
    for (let i = 0; i < 3; i++) {
      const s = await connect(authHeaders(token, pod));
      assert.equal(s.status, 200);
      await s.close();
    }
    assert.equal(reviewer.calls, 1, 'one TokenReview for three connects');
    for (let i = 0; i < 2; i++) await connect({ authorization: 'Bearer bad', 'x-turnout-pod': 'team-a/p' });
    assert.equal(reviewer.calls, 3, 'refusals are asked again');

    reviewer.failing = true;
    const fresh = reviewer.tokenFor(pod);
    const s = await connect(authHeaders(fresh, pod));
    assert.equal(s.status, 503);
    assert.equal(errorCode(s), 'review_unavailable');
    assert.ok(
      logged.some((l) => l.includes('review_unavailable')),
      'the outage is logged',
    );
    assert.ok(
      logged.every((l) => !l.includes(fresh) && !l.includes(token)),
      'no token in any log line',
    );
  });
});
