import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { beforeEach, describe, it } from 'node:test';
import type { Logger } from '../kube/log.ts';
import { splitPem } from './authority.ts';
import { transparentHosts } from './hosts.ts';
import { MeshCertificates } from './mesh.ts';
import { MESH_NAMESPACE_LABEL } from './namespace-authority.ts';
import { FakeCore } from './testing/fake-core.ts';

const HOME = 'turnout-system';
const DAY = 86_400_000;
const timing = { lifetimeMs: 300 * DAY, promoteAfterMs: 20 * DAY };

/** Completes a TLS handshake to a server presenting `leaf`, trusting only `ca`, for `servername`. */
async function handshake(leaf: { cert: string; key: string }, ca: string, servername: string) {
  const server = createServer({ cert: leaf.cert, key: leaf.key }, (_q, s) => s.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca, servername }, () => {
        socket.end();
        resolve();
      });
      socket.once('error', reject);
    });
  } finally {
    server.close();
  }
}

/** True when a CA in `bundle` issued and signed `leaf` (validity periods aside). */
function trusts(bundle: string, leaf: string): boolean {
  const cert = new X509Certificate(leaf);
  return splitPem(bundle).some((pem) => {
    const ca = new X509Certificate(pem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
}

const NOT_TRUSTED = /self-signed|unable to verify|local issuer/i;

describe('mesh CAs: one per namespace, so no tenant can sign for another', () => {
  let core: FakeCore;
  let now: number;
  let warnings: { msg: string; fields: unknown }[];
  // Team A names the hosts the audit used: ones other tenants (and everyone) call.
  const hostsByNamespace: Record<string, string[]> = {
    'team-a': transparentHosts([
      { type: 'openai-compatible', endpoint: 'https://login.microsoftonline.com/v1' },
      { type: 'openai', endpoint: 'https://api.openai.com/v1' },
    ]),
    'team-b': transparentHosts([{ type: 'openai', endpoint: 'https://api.openai.com/v1' }]),
  };
  const log: Logger = {
    info: () => undefined,
    warn: (msg: string, fields?: unknown) => warnings.push({ msg, fields }),
    error: () => undefined,
  };
  const mesh = () =>
    new MeshCertificates({
      core: core.api,
      namespace: HOME,
      caSecret: 'turnout-mesh-ca',
      configMap: 'turnout-ca',
      leafSecret: 'turnout-mesh-tls',
      authority: timing,
      leafLifetimeMs: 30 * DAY,
      controlBundle: () => 'control-bundle',
      hostsFor: (ns) => hostsByNamespace[ns] ?? [],
      log,
      now: () => now,
    });
  const leafOf = (ns: string) => {
    const s = core.secret(ns, 'turnout-mesh-tls');
    assert.ok(s?.['tls.crt'] && s['tls.key'], `no leaf in ${ns}`);
    return { cert: s['tls.crt'], key: s['tls.key'] };
  };
  const trustOf = (ns: string) => {
    const data = core.stored('configmap', ns, 'turnout-ca')?.data;
    assert.ok(data?.['mesh-ca.crt'] && data['bundle.crt'], `no CA files in ${ns}`);
    return { mesh: data['mesh-ca.crt'], bundle: data['bundle.crt'] };
  };

  beforeEach(() => {
    core = new FakeCore();
    // The real clock: TLS handshakes check validity against it. The rotation test checks signatures only.
    now = Date.now();
    warnings = [];
    for (const ns of [HOME, 'team-a', 'team-b']) core.addNamespace(ns);
  });

  it("team-b's pods do not trust team-a's leaf, whatever hosts team-a's providers name", async () => {
    const m = mesh();
    await m.ensureNamespace('team-a', true);
    await m.ensureNamespace('team-b', true);
    const leafA = leafOf('team-a');
    assert.match(new X509Certificate(leafA.cert).subjectAltName ?? '', /login\.microsoftonline\.com/);
    // Team A's own pods (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) accept its leaf ...
    await handshake(leafA, trustOf('team-a').mesh, 'login.microsoftonline.com');
    await handshake(leafA, trustOf('team-a').bundle, 'api.openai.com');
    // ... team B's, with either file, do not: not even for a host both namespaces intercept.
    for (const file of [trustOf('team-b').mesh, trustOf('team-b').bundle])
      for (const host of ['login.microsoftonline.com', 'api.openai.com'])
        await assert.rejects(handshake(leafA, file, host), NOT_TRUSTED);
    for (const ca of splitPem(trustOf('team-b').mesh))
      assert.equal(new X509Certificate(leafA.cert).checkIssued(new X509Certificate(ca)), false);
    await handshake(leafOf('team-b'), trustOf('team-b').mesh, 'api.openai.com');
  });

  it('keeps every CA key in the operator namespace, labelled and owned by the namespace it serves', async () => {
    const m = mesh();
    await m.ensureNamespace('team-a', true);
    await m.ensureNamespace('team-b', false);
    for (const [key, o] of core.objects) {
      if (o.metadata?.namespace === HOME) continue;
      const text = JSON.stringify(o);
      assert.ok(!text.includes('authority'), `${key} carries CA material`);
      const data = core.secret(o.metadata?.namespace ?? '', o.metadata?.name ?? '') ?? {};
      // The only private key outside HOME is the leaf's, and it is not a CA's.
      for (const [k, v] of Object.entries(data))
        if (v.includes('PRIVATE KEY')) assert.equal(k, 'tls.key', `${key} holds a private key in ${k}`);
    }
    for (const ns of ['team-a', 'team-b']) {
      const ca = core.stored('secret', HOME, `turnout-mesh-ca-${ns}`);
      assert.equal(ca?.metadata?.labels?.[MESH_NAMESPACE_LABEL], ns);
      assert.deepEqual(
        ca?.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid]),
        [['Namespace', ns, core.namespaces.get(ns)]],
      );
      assert.equal(core.secret(HOME, `turnout-mesh-ca-${ns}`)?.['ca.crt'], trustOf(ns).mesh);
    }
  });

  it('gives a namespace recreated under the same name a new CA: the old tenant’s leaf is not trusted', async () => {
    const m = mesh();
    await m.ensureNamespace('team-a', true);
    const oldLeaf = leafOf('team-a');
    // The namespace is deleted (its objects with it, the CA Secret left behind) and created again.
    for (const key of [...core.objects.keys()]) if (key.includes('/team-a/')) core.objects.delete(key);
    core.addNamespace('team-a');
    await m.ensureNamespace('team-a', true);
    await assert.rejects(handshake(oldLeaf, trustOf('team-a').mesh, 'api.openai.com'), NOT_TRUSTED);
    await handshake(leafOf('team-a'), trustOf('team-a').mesh, 'api.openai.com');
  });

  it('rotates each namespace’s CA on its own schedule; bundles never mix namespaces', async () => {
    const m = mesh();
    await m.ensureNamespace('team-a', true);
    now += 150 * DAY;
    await m.ensureNamespace('team-b', true);
    const cas = (ns: string) => splitPem(trustOf(ns).mesh);
    const first = { a: cas('team-a'), b: cas('team-b') };
    // Team A's CA has under a third of its life left: its successor is published; team B's is young.
    now += 60 * DAY;
    await m.reconcileAll();
    assert.equal(cas('team-a').length, 2);
    assert.ok(cas('team-a').includes(first.a[0] ?? ''));
    assert.deepEqual(cas('team-b'), first.b);
    // Promoted after promoteAfter: the leaf is re-issued by the successor, which pods already trust.
    now += 21 * DAY;
    await m.reconcileAll();
    assert.ok(trusts(trustOf('team-a').mesh, leafOf('team-a').cert));
    assert.equal(trusts(first.a[0] ?? '', leafOf('team-a').cert), false);
    assert.equal(trusts(trustOf('team-b').mesh, leafOf('team-a').cert), false);
    assert.ok(trusts(trustOf('team-b').mesh, leafOf('team-b').cert));
    for (const ca of cas('team-a')) assert.ok(!cas('team-b').includes(ca));
  });

  it('deletes the CA earlier versions shared between all namespaces; warns once when RBAC forbids it', async () => {
    const shared = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'turnout-mesh-ca' } };
    await core.createNamespacedSecret({
      namespace: HOME,
      body: { ...shared, stringData: { 'ca.crt': 'x' } },
    });
    await mesh().ensureNamespace('team-a', true);
    const m = mesh();
    await m.reconcileAll();
    assert.equal(core.stored('secret', HOME, 'turnout-mesh-ca'), undefined);
    await core.createNamespacedSecret({
      namespace: HOME,
      body: { ...shared, stringData: { 'ca.crt': 'x' } },
    });
    core.forbiddenDeletes.add('turnout-mesh-ca');
    await m.reconcileAll();
    await m.reconcileAll();
    assert.equal(warnings.filter((w) => /shared between namespaces/.test(w.msg)).length, 1);
    // The namespaces were refreshed regardless.
    assert.ok(core.stored('secret', HOME, 'turnout-mesh-ca-team-a'));
  });
});
