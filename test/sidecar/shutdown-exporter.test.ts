// Exit after SIGTERM with tracing on and the OTLP collector unreachable. Shutdown gives the exporter 2 s
// to flush; after that nothing the exporter still has pending (a request the collector never answers,
// retries with backoff) may keep the process alive, or a stream that used the whole drain window would
// run into the pod's SIGKILL. The exporter is given a 5-minute timeout here, so a process that waited
// for it would still be running when the test gives up.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { spawnSidecar } from '../../operator/push/testing/index.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout } from '../helpers/turnout-process.ts';
import { policyYaml, providersYaml } from './manifests.ts';

const EXPORTER_TIMEOUT_MS = 300_000;
/** A process that waited for its exporter would still run when this runs out. */
const TEST_TIMEOUT = { timeout: 45_000 };
/**
 * What a collector that refuses connections costs a process that waits for its exporter: the first try
 * and five retries, 1 s backing off ×1.5 to 5 s (±20 % jitter), at least ~10.5 s after shutdown began.
 * Shutdown itself takes its 2 s flush limit, so a process that does not wait exits well inside this.
 */
const REFUSED_RETRIES_MIN_MS = 10_500;

let primary: FakeProvider;
let secondary: FakeProvider;
let config: Awaited<ReturnType<typeof configDir>>;
/** Killed at the end whatever happened: one that waits for its exporter outlives a failed test. */
const children: ChildProcess[] = [];

before(async () => {
  primary = await startFakeProvider({ dialect: 'openai' });
  secondary = await startFakeProvider({ dialect: 'openai' });
  config = await configDir({
    'providers.yaml': providersYaml(primary.url, secondary.url),
    'policy.yaml': policyYaml('smart'),
  });
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await config?.remove();
  await primary?.close();
  await secondary?.close();
});

const listening = async <T extends Server | HttpServer>(server: T): Promise<T & { port: number }> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return Object.assign(server, { port: address.port });
};

/** A port nothing listens on: every connection is refused (ECONNREFUSED, which the exporter retries). */
async function refusingPort(): Promise<number> {
  const server = await listening(createTcpServer());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return server.port;
}

/** Accepts connections and reads requests, never answers: the exporter waits out its timeout. */
async function silentCollector() {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = await listening(
    createTcpServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.resume();
    }),
  );
  return {
    url: `http://127.0.0.1:${server.port}`,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers every export 503 with Retry-After: 2 minutes, which the exporter honours by waiting. */
async function unavailableCollector() {
  let requests = 0;
  const server = await listening(
    createHttpServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(503, { 'retry-after': '120' }).end());
    }),
  );
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const tracingTo = (endpoint: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_TIMEOUT: String(EXPORTER_TIMEOUT_MS),
});

/** `turnout dev` tracing to `endpoint`: one call (a span to export), SIGTERM, then its exit. */
async function devExit(endpoint: string): Promise<{ code: number | null; ms: number; output: string }> {
  const t = await startTurnout(
    ['dev', '--config', config.dir, '--listen', '127.0.0.1:0', '--drain-timeout', '5s'],
    tracingTo(endpoint),
  );
  children.push(t.child);
  await t.waitForLine(/loaded snapshot/);
  const res = await chat(t.url);
  assert.equal(res.status, 200);
  await res.text();
  const exited = new Promise<number | null>((resolve) => t.child.once('exit', (code) => resolve(code)));
  const signalled = performance.now();
  t.child.kill('SIGTERM');
  const code = await exited;
  return { code, ms: performance.now() - signalled, output: t.output() };
}

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'trace me' }] }),
  });

describe('exit after SIGTERM with the OTLP collector unreachable', () => {
  it('turnout dev: a collector that never answers does not hold the exit', TEST_TIMEOUT, async () => {
    const collector = await silentCollector();
    try {
      const { code, output } = await devExit(collector.url);
      assert.equal(code, 0, output);
      assert.match(output, /stopped after/, 'the drain report was printed before exiting');
      assert.ok(collector.connections() >= 1, 'the exporter tried to export the call span');
    } finally {
      await collector.close();
    }
  });

  it(
    'turnout dev: a collector that answers 503 with Retry-After does not hold the exit',
    TEST_TIMEOUT,
    async () => {
      const collector = await unavailableCollector();
      try {
        const { code, output } = await devExit(collector.url);
        assert.equal(code, 0, output);
        assert.ok(collector.requests() >= 1, 'the exporter tried, and was told to retry in 2 minutes');
      } finally {
        await collector.close();
      }
    },
  );

  it(
    'turnout dev: a collector that refuses connections does not hold the exit through its retries',
    TEST_TIMEOUT,
    async () => {
      const { code, ms, output } = await devExit(`http://127.0.0.1:${await refusingPort()}`);
      assert.equal(code, 0, output);
      assert.ok(
        ms < REFUSED_RETRIES_MIN_MS,
        `exited ${Math.round(ms)} ms after SIGTERM: it waited for the exporter's retries`,
      );
    },
  );

  it('turnout sidecar: a collector that never answers does not hold the exit', TEST_TIMEOUT, async () => {
    const collector = await silentCollector();
    const state = await mkdtemp(join(tmpdir(), 'turnout-exporter-'));
    try {
      const loaded = await loadConfigDir(config.dir, { labels: 'all' });
      assert.ok(loaded.snapshot, 'the test manifests compile');
      await writeFile(
        join(state, 'snapshot.json'),
        JSON.stringify({ revision: 1, snapshot: loaded.snapshot }),
      );
      await writeFile(join(state, 'token'), 'test-token');
      const sidecar = await spawnSidecar({
        // Nothing listens there: the sidecar serves its restored snapshot and keeps retrying the operator.
        TURNOUT_OPERATOR_URL: 'https://127.0.0.1:1',
        TURNOUT_TOKEN_FILE: join(state, 'token'),
        TURNOUT_POD_NAMESPACE: 't',
        TURNOUT_POD_NAME: 'exporter-test',
        TURNOUT_STATE_DIR: state,
        TURNOUT_DRAIN_TIMEOUT: '5s',
        ...tracingTo(collector.url),
      });
      children.push(sidecar.child);
      await sidecar.waitFor((l) => l.msg === 'sync.restored');
      const res = await chat(sidecar.url);
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(await sidecar.stop(), 0, sidecar.output());
      assert.ok(
        sidecar.lines.some((l) => l.msg === 'stopped'),
        'the stopped line was written',
      );
      assert.ok(collector.connections() >= 1, 'the exporter tried to export the call span');
    } finally {
      await collector.close();
      await rm(state, { recursive: true, force: true });
    }
  });
});
