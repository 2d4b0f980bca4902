// The sidecar's sync client against the real push server: load + ACK + persist, restart while the
// operator is down (serves from disk), reconnect with backoff and resync after the operator restarts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { PodIdentity } from '../../operator/contract.ts';
import { snapshotFor } from '../../operator/compile/index.ts';
import { startPushServer, type RunningPushServer } from '../../operator/push/index.ts';
import {
  eventually,
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  namespaceYaml,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { startSidecar } from '../index.ts';
import { SnapshotStore } from '../snapshot/store.ts';
import { startSyncClient, type SyncClient } from './index.ts';

let tls: TestTls;
let dir: string;
let desired: FakeDesiredState;
let reviewer: FakeReviewer;
let server: RunningPushServer | undefined;
let pod: PodIdentity;
let tokenFile: string;
const clients: SyncClient[] = [];
const logs: { event: string; [k: string]: unknown }[] = [];

before(async () => {
  tls = await makeTestTls();
});
after(() => tls.remove());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnout-sync-'));
  desired = new FakeDesiredState();
  reviewer = new FakeReviewer();
  desired.apply(namespaceYaml('a', 'sk-a-secret'));
  pod = desired.addPod('a', 'p1', { app: 'web' });
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${reviewer.tokenFor(pod)}\n`);
  server = await serve(0);
  logs.length = 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const serve = (port: number) =>
  startPushServer({
    desired,
    tokenReviewer: reviewer.review,
    tls: { cert: tls.cert, key: tls.key },
    port,
    debounceMs: 10,
    pingIntervalMs: 200,
  });

async function client(store: SnapshotStore, operatorUrl = server?.url ?? '') {
  const c = await startSyncClient({
    operatorUrl,
    caFile: tls.caFile,
    tokenFile,
    namespace: 'a',
    pod: 'p1',
    store,
    stateDir: join(dir, 'state'),
    backoff: { baseMs: 40, maxMs: 300 },
    idleTimeoutMs: 2000,
    log: (event, fields) => logs.push({ event, ...fields }),
  });
  clients.push(c);
  return c;
}

const expected = () => snapshotFor(desired.compiled('a'), 'a', pod.labels).version;
const acked = (s: RunningPushServer | undefined) => s?.reporter.sidecars('a')[0]?.ackedVersion;
/** The version in the saved file; undefined while there is none. */
async function savedVersion(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined
    ? undefined
    : (JSON.parse(text) as { snapshot: { version: string } }).snapshot.version;
}

const count = (event: string) => logs.filter((l) => l.event === event).length;

describe('sidecar sync client', () => {
  it('loads the pushed snapshot, ACKs it, keeps a 0600 copy on disk, and follows changes', async () => {
    const store = new SnapshotStore();
    await client(store);
    await eventually('loaded', () => store.current?.version === expected());
    await eventually('acked', () => acked(server) === expected());
    // Written after the ACK (the ACK waits for no disk): soon after, not necessarily at once.
    const file = join(dir, 'state', 'snapshot.json');
    await eventually('saved', async () => (await savedVersion(file)) === expected());
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    desired.apply(namespaceYaml('a', 'sk-a-rotated', 'next'));
    await eventually('reloaded', () => store.current?.version === expected());
    await eventually('acked again', () => acked(server) === expected());
    assert.equal(store.snapshot?.credentials.sim, 'sk-a-rotated');
    assert.ok(
      logs.every((l) => !JSON.stringify(l).includes('sk-a-')),
      'no credential in any log line',
    );
  });

  it('serves from disk after a restart while the operator is down', async () => {
    const first = new SnapshotStore();
    const c = await client(first);
    await eventually('acked', () => acked(server) === expected());
    await c.close();
    const url = server?.url ?? '';
    await server?.close();
    server = undefined;

    const store = new SnapshotStore();
    await client(store, url);
    assert.equal(store.current?.version, expected(), 'loaded from disk before connecting');
    const internal: string[] = [];
    const sidecar = await startSidecar({ port: 0, store, onInternalError: (e) => internal.push(String(e)) });
    try {
      assert.equal((await fetch(`${sidecar.url}/readyz`)).status, 200);
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 200, `${await res.clone().text()} ${internal.join('\n')}`);
      assert.equal(res.headers.get('x-turnout-route'), 'main');
      await res.text();
      await eventually('tried and failed to connect', () => count('sync.disconnected') >= 1);
    } finally {
      await sidecar.close();
    }
  });

  it('reconnects with growing, capped backoff after the operator restarts, and resyncs', async () => {
    const store = new SnapshotStore();
    await client(store);
    await eventually('acked', () => acked(server) === expected());
    const port = Number(new URL(server?.url ?? '').port);
    await server?.close();
    // Changed while the operator is away: the client must pick it up once it is back.
    desired.apply(namespaceYaml('a', 'sk-a-secret', 'while-down'));
    await eventually('several retries', () => count('sync.disconnected') >= 5);
    const delays = logs.filter((l) => l.event === 'sync.disconnected').map((l) => l.retryInMs as number);
    assert.ok(
      delays.every((d) => d <= 300),
      `capped: ${delays.join(',')}`,
    );
    assert.ok(Math.max(...delays.slice(1)) > (delays[1] ?? 0), `grows: ${delays.join(',')}`);

    server = await serve(port);
    await eventually('got the change', () => store.current?.version === expected(), 5000);
    await eventually('acked by the new server', () => acked(server) === expected());
    assert.equal(store.current?.policies[0]?.routes[0]?.name, 'while-down');
  });

  it('resyncs without a re-send when nothing changed (tells the server what it has)', async () => {
    const store = new SnapshotStore();
    await client(store);
    await eventually('acked', () => acked(server) === expected());
    const port = Number(new URL(server?.url ?? '').port);
    await server?.close();
    await eventually('noticed', () => count('sync.disconnected') >= 1);
    server = await serve(port);
    await eventually('synced with the new server', () => acked(server) === expected());
    await eventually('reconnected', () => count('sync.connected') >= 2);
    assert.equal(count('sync.loaded'), 1, 'loaded once: the resync sent nothing');
  });

  it('rereads the token file on every connect (projected tokens rotate)', async () => {
    await writeFile(tokenFile, 'expired-token');
    const store = new SnapshotStore();
    await client(store);
    await eventually('refused', () =>
      logs.some((l) => l.event === 'sync.disconnected' && /refused with 401/.test(String(l.reason))),
    );
    await writeFile(tokenFile, reviewer.tokenFor(pod));
    await eventually('loaded', () => store.current?.version === expected());
    assert.ok(logs.every((l) => !JSON.stringify(l).includes('expired-token')));
  });
});
