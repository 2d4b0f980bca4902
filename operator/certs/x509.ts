// X.509 v3 certificates signed with ECDSA P-256/SHA-256: the CAs and leaves the operator issues. Only
// what TLS clients (Go's crypto/x509 in the apiserver, OpenSSL, Node, curl) need: SANs, key usages,
// basic constraints and key identifiers, so chains build and verify everywhere.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

export interface Issuer {
  /** The issuer's subject common name: must match how its own certificate was made. */
  commonName: string;
  key: KeyObject;
  /** Its subject key identifier (hex), for the authority key identifier extension. */
  keyId: string;
}

export interface CertificateSpec {
  commonName: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** A CA may sign leaves (pathLen 0); a leaf is for TLS servers. */
  isCA: boolean;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Omitted: self-signed, with `selfKey` as the signing key. */
  issuer?: Issuer;
  selfKey?: KeyObject;
}

export function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export const keyToPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
export const pemToKey = (pem: string): KeyObject => createPrivateKey(pem);

/** SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1), hex. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  return createHash('sha1').update(point).digest('hex');
}

const name = (cn: string) =>
  der.sequence(
    der.set(der.sequence(der.oid(OID.organization), der.utf8String('Turnout'))),
    der.set(der.sequence(der.oid(OID.commonName), der.utf8String(cn))),
  );

const extension = (id: string, critical: boolean, value: der.Der) =>
  der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(all.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

function extensions(spec: CertificateSpec, keyId: string, authorityKeyId: string): der.Der {
  const list = [
    spec.isCA
      ? extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.smallInteger(0)))
      : extension(OID.basicConstraints, true, der.sequence()),
    // CA: digitalSignature, keyCertSign, cRLSign (bits 0, 5, 6); leaf: digitalSignature (bit 0).
    extension(
      OID.keyUsage,
      true,
      spec.isCA ? der.bitString(Buffer.from([0x86]), 1) : der.bitString(Buffer.from([0x80]), 7),
    ),
    extension(OID.subjectKeyId, false, der.octetString(Buffer.from(keyId, 'hex'))),
    extension(OID.authorityKeyId, false, der.sequence(der.implicit(0, Buffer.from(authorityKeyId, 'hex')))),
  ];
  if (!spec.isCA) {
    list.push(extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))));
    const sans = [
      ...(spec.dnsNames ?? []).map((d) => der.implicit(2, Buffer.from(d, 'ascii'))),
      ...(spec.ipAddresses ?? []).map((ip) => der.implicit(7, ipBytes(ip))),
    ];
    if (sans.length === 0)
      throw new Error(`certificate ${spec.commonName} needs at least one DNS name or IP`);
    list.push(extension(OID.subjectAltName, false, der.sequence(...sans)));
  }
  return der.explicit(3, der.sequence(...list));
}

/** Issues a certificate, PEM-encoded. */
export function issueCertificate(spec: CertificateSpec): string {
  const signingKey = spec.issuer?.key ?? spec.selfKey;
  if (!signingKey) throw new Error('a self-signed certificate needs selfKey');
  const keyId = keyIdOf(spec.publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive, and never more than 20 octets
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(serial),
    algorithm,
    name(spec.issuer?.commonName ?? spec.commonName),
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    name(spec.commonName),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    extensions(spec, keyId, spec.issuer?.keyId ?? keyId),
  );
  const signature = sign('sha256', tbs, signingKey);
  const cert = der.sequence(tbs, algorithm, der.bitString(signature));
  const b64 = cert.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}
