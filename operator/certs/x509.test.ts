import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { createAuthority, issueLeaf, leafMatches, normalizeName, subjectAltNames } from './authority.ts';
import * as der from './der.ts';

const HOUR = 3_600_000;

function openssl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, (e, out, err) => (e ? reject(new Error(`${err}${out}`)) : resolve(out))),
  );
}

/** Completes a TLS handshake to a server presenting `leaf`, trusting `ca`, for `servername`. */
async function handshake(leaf: { cert: string; key: string }, ca: string, servername: string) {
  const server = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (_q, s) => s.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<void>((resolve, reject) => {
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

describe('x509: certificates the operator issues', () => {
  const now = Date.now();
  const ca = createAuthority('test CA', 24 * HOUR, now);
  const leaf = issueLeaf(
    ca,
    {
      commonName: 'leaf',
      dnsNames: ['api.openai.com', 'svc.ns.svc'],
      ipAddresses: ['127.0.0.1', '::1'],
      lifetimeMs: HOUR,
    },
    now,
  );

  it('verify with openssl, and the CA is a CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'turnout-x509-'));
    try {
      await writeFile(join(dir, 'ca.crt'), ca.cert);
      await writeFile(join(dir, 'leaf.crt'), leaf.cert);
      assert.match(await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')]), /OK/);
      const text = await openssl(['x509', '-in', join(dir, 'ca.crt'), '-noout', '-text']);
      assert.match(text, /CA:TRUE, pathlen:0/);
      assert.match(text, /Certificate Sign/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('carry the requested names, are signed by the CA and match their key', () => {
    assert.deepEqual(subjectAltNames(leaf.cert), [
      '0:0:0:0:0:0:0:1',
      '127.0.0.1',
      'api.openai.com',
      'svc.ns.svc',
    ]);
    assert.equal(normalizeName('::1'), '0:0:0:0:0:0:0:1');
    assert.ok(leafMatches(leaf, ca));
    const other = createAuthority('other CA', HOUR, now);
    assert.equal(leafMatches(leaf, other), false);
    assert.ok(new X509Certificate(leaf.cert).checkIssued(new X509Certificate(ca.cert)));
  });

  it('complete a Node TLS handshake for a listed name and fail for any other', async () => {
    await handshake(leaf, ca.cert, 'api.openai.com');
    await assert.rejects(handshake(leaf, ca.cert, 'api.anthropic.com'), /altnames|Hostname/i);
    await assert.rejects(
      handshake(leaf, createAuthority('x', HOUR, now).cert, 'api.openai.com'),
      /self-signed|unable to verify|local issuer/i,
    );
  });

  it('never outlive their CA', () => {
    const shortCa = createAuthority('short', HOUR, now);
    const long = issueLeaf(
      shortCa,
      { commonName: 'l', dnsNames: ['a.example'], lifetimeMs: 100 * HOUR },
      now,
    );
    assert.equal(new X509Certificate(long.cert).validTo, new X509Certificate(shortCa.cert).validTo);
  });

  it('need at least one name', () => {
    assert.throws(
      () => issueLeaf(ca, { commonName: 'none', lifetimeMs: HOUR }, now),
      /at least one DNS name or IP/,
    );
  });
});

describe('der', () => {
  it('encodes long lengths, integers and OIDs as DER requires', () => {
    assert.deepEqual([...der.tlv(0x04, Buffer.alloc(300)).subarray(0, 4)], [0x04, 0x82, 0x01, 0x2c]);
    assert.deepEqual([...der.unsignedInteger(Buffer.from([0x00, 0x00, 0x80]))], [0x02, 0x02, 0x00, 0x80]);
    assert.deepEqual([...der.unsignedInteger(Buffer.from([0x00]))], [0x02, 0x01, 0x00]);
    assert.equal(der.oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
    assert.equal(der.time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2), '491231235959Z');
    assert.equal(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2), '20500101000000Z');
  });
});
