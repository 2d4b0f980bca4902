// What the sidecar does with a snapshot it must not serve: a tampered one (content no longer matches its
// version), a malformed one, one for another namespace. Each is NACKed with a reason, the last good one
// keeps serving, and no credential appears in the reason. A scripted operator sends exactly these bytes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Snapshot } from '../../api/index.ts';
import { snapshotFor } from '../../operator/compile/index.ts';
import {
  eventually,
  FakeDesiredState,
  makeTestTls,
  namespaceYaml,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { startSidecar } from '../index.ts';
import { SnapshotStore } from '../snapshot/store.ts';
import { startSyncClient, type SyncClient } from './index.ts';

interface Ack {
  version: string;
  revision: number;
  ok: boolean;
  error?: string;
}

let tls: TestTls;
let dir: string;
let operator: Server;
let url: string;
let stream: ServerResponse | undefined;
let acks: Ack[];
let client: SyncClient | undefined;

before(async () => {
  tls = await makeTestTls();
});
after(() => tls.remove());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnout-integrity-'));
  await writeFile(join(dir, 'token'), 'any');
  acks = [];
  stream = undefined;
  operator = createServer({ cert: await readFile(tls.cert), key: await readFile(tls.key) }, (req, res) => {
    if (req.url === '/v1/snapshots/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {}\n\n');
      stream = res;
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      acks.push(JSON.parse(body) as Ack);
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => operator.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(operator.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await client?.close();
  operator.closeAllConnections();
  await new Promise((resolve) => operator.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function snapshot(ns: string, key: string, route = 'main'): Snapshot {
  const desired = new FakeDesiredState();
  desired.apply(namespaceYaml(ns, key, route));
  return snapshotFor(desired.compiled(ns), ns, {});
}

async function connect(store: SnapshotStore) {
  client = await startSyncClient({
    operatorUrl: url,
    caFile: tls.caFile,
    tokenFile: join(dir, 'token'),
    namespace: 'a',
    pod: 'p1',
    store,
    stateDir: join(dir, 'state'),
    backoff: { baseMs: 20, maxMs: 100 },
  });
  await eventually('stream open', () => stream !== undefined);
}

let revision = 0;
function push(data: unknown): Promise<Ack> {
  const before = acks.length;
  stream?.write(`event: snapshot\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  return eventually('answered', () => acks.length > before).then(() => acks[acks.length - 1] as Ack);
}

describe('sidecar sync: integrity', () => {
  it('NACKs a tampered snapshot and keeps serving (and keeping on disk) the last good one', async () => {
    const store = new SnapshotStore();
    await connect(store);
    const good = snapshot('a', 'sk-good-key');
    assert.deepEqual(await push({ revision: ++revision, snapshot: good }), {
      version: good.version,
      revision,
      ok: true,
    });

    const next = snapshot('a', 'sk-good-key', 'next');
    const tampered = { ...next, credentials: { sim: 'sk-attacker-key' } };
    const nack = await push({ revision: ++revision, snapshot: tampered });
    assert.equal(nack.ok, false);
    assert.equal(nack.version, next.version);
    assert.match(nack.error ?? '', /content does not match its version/);
    assert.doesNotMatch(nack.error ?? '', /sk-/);
    assert.equal(store.current?.version, good.version);

    const sidecar = await startSidecar({ port: 0, store });
    try {
      const ready = (await (await fetch(`${sidecar.url}/readyz`)).json()) as { snapshot: string };
      assert.equal(ready.snapshot, good.version, 'the sidecar still serves the last good snapshot');
    } finally {
      await sidecar.close();
    }
    // Saved after its ACK; the refused one after it never replaces it.
    const saved = async () =>
      (JSON.parse(await readFile(join(dir, 'state', 'snapshot.json'), 'utf8')) as { snapshot: Snapshot })
        .snapshot.version;
    await eventually('the good snapshot saved', async () => (await saved().catch(() => '')) === good.version);
  });

  it('NACKs malformed events, unknown fields, other schemas and other namespaces with a reason', async () => {
    const store = new SnapshotStore();
    await connect(store);
    const good = snapshot('a', 'sk-good-key');
    await push({ revision: ++revision, snapshot: good });
    const other = snapshot('b', 'sk-b-key');
    const { version: _v, ...content } = snapshot('a', 'sk-good-key', 'x');
    const unknownField = { ...content, policies: [], surprise: true };
    const cases: [unknown, RegExp][] = [
      ['{not json, has sk-secret-in-it', /not valid JSON/],
      [{ revision: 'one', snapshot: good }, /revision must be a whole number/],
      [{ revision: ++revision, snapshot: { ...good, schema: 2 } }, /schema/],
      [{ revision: ++revision, snapshot: other }, /namespace b, this pod is in a/],
      [
        { revision: ++revision, snapshot: { ...unknownField, version: good.version } },
        /Unrecognized key.*surprise/,
      ],
      [{ revision: ++revision, snapshot: { ...good, providers: [{ name: 'x' }] } }, /providers\.0\.type/],
    ];
    for (const [data, reason] of cases) {
      const ack = await push(data);
      assert.equal(ack.ok, false, JSON.stringify(ack));
      assert.match(ack.error ?? '', reason);
      assert.doesNotMatch(ack.error ?? '', /sk-/);
      assert.equal(store.current?.version, good.version);
    }
  });
});
