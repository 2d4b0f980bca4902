// Certificate authorities and the leaves they sign, as PEM pairs: the form they take in Secrets.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { issueCertificate, keyIdOf, keyToPem, newKey, pemToKey } from './x509.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

/** Backdating absorbs clock skew between the operator and whoever verifies. */
export const BACKDATE_MS = 5 * 60_000;

export function createAuthority(commonName: string, lifetimeMs: number, now: number): KeyPair {
  const { privateKey, publicKey } = newKey();
  const cert = issueCertificate({
    commonName,
    publicKey,
    selfKey: privateKey,
    isCA: true,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + lifetimeMs),
  });
  return { cert, key: keyToPem(privateKey) };
}

export interface LeafRequest {
  commonName: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  lifetimeMs: number;
}

export function issueLeaf(ca: KeyPair, req: LeafRequest, now: number): KeyPair {
  const caCert = new X509Certificate(ca.cert);
  const caKey = pemToKey(ca.key);
  const { privateKey, publicKey } = newKey();
  // A leaf never outlives its issuer: clients would reject the chain after the CA expires anyway.
  const notAfter = Math.min(now + req.lifetimeMs, Date.parse(caCert.validTo));
  const cert = issueCertificate({
    commonName: req.commonName,
    publicKey,
    isCA: false,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    ...(req.dnsNames && { dnsNames: req.dnsNames }),
    ...(req.ipAddresses && { ipAddresses: req.ipAddresses }),
    issuer: { commonName: commonNameOf(caCert), key: caKey, keyId: keyIdOf(createPublicKey(ca.key)) },
  });
  return { cert, key: keyToPem(privateKey) };
}

export function commonNameOf(cert: X509Certificate): string {
  return /CN=([^\n]+)/.exec(cert.subject)?.[1] ?? '';
}

/** Validity of a PEM certificate (the first in the text), in epoch ms. */
export function validity(pem: string): { notBefore: number; notAfter: number } {
  const c = new X509Certificate(pem);
  return { notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo) };
}

/** True when `leaf` was signed by `ca` and `key` is the leaf's private key. */
export function leafMatches(leaf: KeyPair, ca: KeyPair): boolean {
  try {
    const cert = new X509Certificate(leaf.cert);
    return cert.verify(new X509Certificate(ca.cert).publicKey) && cert.checkPrivateKey(pemToKey(leaf.key));
  } catch {
    return false;
  }
}

/** A SAN as X509Certificate prints it: IPv6 as 8 groups without leading zeros, DNS lower-cased. */
export function normalizeName(name: string): string {
  if (isIP(name) !== 6) return name.toLowerCase();
  const [head = '', tail = ''] = name.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = name.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** DNS and IP SANs of a certificate, sorted, for comparing with what it should cover. */
export function subjectAltNames(pem: string): string[] {
  const text = new X509Certificate(pem).subjectAltName ?? '';
  return text
    .split(', ')
    .filter(Boolean)
    .map((s) => s.replace(/^(DNS|IP Address):/, ''))
    .sort();
}

/** Splits a PEM bundle into its certificates. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
