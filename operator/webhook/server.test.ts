import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createAuthority, issueLeaf } from '../certs/authority.ts';
import { silentLogger } from '../kube/log.ts';
import { parseInjectorConfig } from './config.ts';
import { WebhookMetrics } from './metrics.ts';
import { startWebhookServer, type RunningWebhookServer } from './server.ts';

const HOUR = 3_600_000;
const config = parseInjectorConfig(
  { tls: {}, sidecar: { image: 'sidecar:test', operatorUrl: 'https://op.turnout-system.svc:15401' } },
  'turnout-system',
);

function post(
  url: string,
  ca: string,
  body: string,
): Promise<{ status: number; text: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const peer = (res.socket as TLSSocket).getPeerCertificate();
          resolve({ status: res.statusCode ?? 0, text, serial: peer.serialNumber ?? '' });
        });
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

const review = (object: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'team-a',
      object,
      ...extra,
    },
  });

describe('webhook server', () => {
  let dir: string;
  let server: RunningWebhookServer;
  const ca = createAuthority('webhook test CA', HOUR, Date.now());
  const writePair = async () => {
    const leaf = issueLeaf(ca, { commonName: 'w', ipAddresses: ['127.0.0.1'], lifetimeMs: HOUR }, Date.now());
    // As the operator's mirror does: temp file + rename, key first.
    await writeFile(join(dir, 'k.tmp'), leaf.key);
    await rename(join(dir, 'k.tmp'), join(dir, 'tls.key'));
    await writeFile(join(dir, 'c.tmp'), leaf.cert);
    await rename(join(dir, 'c.tmp'), join(dir, 'tls.crt'));
    return new X509Certificate(leaf.cert).serialNumber;
  };
  const reviewed: unknown[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnout-webhook-'));
    await writePair();
    server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      tls: { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') },
      context: {
        config,
        names: { caConfigMap: 'turnout-ca', leafSecret: 'turnout-mesh-tls' },
        excludedNamespaces: new Set(['turnout-system']),
        hostsFor: () => [],
      },
      metrics: new WebhookMetrics(new Registry()),
      log: silentLogger,
      tlsReloadIntervalMs: 50,
      onReviewed: (r) => reviewed.push(r),
    });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a Pod CREATE with a base64 JSON Patch', async () => {
    const res = await post(
      server.url,
      ca.cert,
      review({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } }),
    );
    assert.equal(res.status, 200);
    const body = JSON.parse(res.text) as {
      response: { uid: string; allowed: boolean; patchType: string; patch: string };
    };
    assert.equal(body.response.uid, 'u-1');
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    const ops = JSON.parse(Buffer.from(body.response.patch, 'base64').toString()) as { op: string }[];
    assert.ok(ops.length > 0 && ops.every((o) => o.op === 'add'));
  });

  it('allows anything else untouched, and reports dry runs so they cause no side effects', async () => {
    const res = await post(
      server.url,
      ca.cert,
      review({ spec: { containers: [{ name: 'a' }] } }, { operation: 'UPDATE' }),
    );
    assert.deepEqual(JSON.parse(res.text), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u-1', allowed: true },
    });
    await post(server.url, ca.cert, review({ spec: { containers: [{ name: 'a' }] } }, { dryRun: true }));
    assert.equal((reviewed.at(-1) as { dryRun: boolean }).dryRun, true);
  });

  it('rejects what is not an AdmissionReview with 400 (the apiserver then applies failurePolicy)', async () => {
    assert.equal((await post(server.url, ca.cert, '{nope')).status, 400);
    assert.equal((await post(server.url, ca.cert, '{"kind":"Pod"}')).status, 400);
  });

  it('serves a rotated certificate on new connections without a restart', async () => {
    const first = (await post(server.url, ca.cert, review({ spec: { containers: [{ name: 'a' }] } }))).serial;
    await sleep(20); // distinct mtimes
    const rotated = await writePair();
    assert.notEqual(rotated, first);
    let seen = first;
    for (let i = 0; i < 100 && seen !== rotated; i++) {
      await sleep(20);
      seen = (await post(server.url, ca.cert, review({ spec: { containers: [{ name: 'a' }] } }))).serial;
    }
    assert.equal(seen, rotated);
  });
});
