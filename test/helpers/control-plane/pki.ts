import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './command.ts';

/** File paths of everything the control plane and its clients need; all PEM, all in one dir. */
export interface Pki {
  caFile: string;
  caKeyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  adminCertFile: string;
  adminKeyFile: string;
  controllerManagerCertFile: string;
  controllerManagerKeyFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPubFile: string;
}

export interface ClientCert {
  certFile: string;
  keyFile: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  const result = await runCommand('openssl', args);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
}

// P-256 keys: generated in milliseconds, accepted by Go's TLS stack and by kubectl/helm.
async function newKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function newCa(dir: string): Promise<{ caFile: string; caKeyFile: string }> {
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  await newKey(caKeyFile);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKeyFile,
    '-out',
    caFile,
    '-days',
    '3650',
    '-subj',
    '/CN=turnout-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { caFile, caKeyFile };
}

/** Signs a leaf with the test CA; `extensions` is an openssl extension section body. */
async function newLeaf(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { caFile: string; caKeyFile: string },
): Promise<ClientCert> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await newKey(keyFile);
  await writeFile(extFile, extensions);
  await openssl(['req', '-new', '-key', keyFile, '-out', csrFile, '-subj', subject]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.caFile,
    '-CAkey',
    ca.caKeyFile,
    // A random serial instead of -CAcreateserial: no shared ca.srl file to race on.
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-out',
    certFile,
    '-days',
    '3650',
    '-extfile',
    extFile,
  ]);
  return { certFile, keyFile };
}

function clientExtensions(): string {
  return 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
}

function servingExtensions(serviceIp: string): string {
  // Every name a client might dial: loopback for tests, the in-cluster names for code that builds
  // "https://kubernetes.default.svc" URLs itself.
  const names = [
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  return `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.join(',')}\n`;
}

/** Issues another client certificate (a user for RBAC tests: CN is the user name, each O a group). */
export async function issueClientCert(
  dir: string,
  pki: Pki,
  name: string,
  user: string,
  groups: readonly string[] = [],
): Promise<ClientCert> {
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
  return newLeaf(dir, name, subject, clientExtensions(), pki);
}

export async function createPki(dir: string, serviceIp: string): Promise<Pki> {
  const ca = await newCa(dir);
  const serving = await newLeaf(dir, 'apiserver', '/CN=kube-apiserver', servingExtensions(serviceIp), ca);
  const admin = await newLeaf(dir, 'admin', '/O=system:masters/CN=admin', clientExtensions(), ca);
  // --use-service-account-credentials=false runs every controller as this identity, and the
  // namespace controller must delete every kind of object, hence system:masters.
  const kcm = await newLeaf(
    dir,
    'kube-controller-manager',
    '/O=system:masters/CN=system:kube-controller-manager',
    clientExtensions(),
    ca,
  );
  // RSA for ServiceAccount tokens (RS256): what every JWT library verifies out of the box.
  const serviceAccountKeyFile = join(dir, 'sa.key');
  const serviceAccountPubFile = join(dir, 'sa.pub');
  await openssl([
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    serviceAccountKeyFile,
  ]);
  await openssl(['pkey', '-in', serviceAccountKeyFile, '-pubout', '-out', serviceAccountPubFile]);
  return {
    ...ca,
    servingCertFile: serving.certFile,
    servingKeyFile: serving.keyFile,
    adminCertFile: admin.certFile,
    adminKeyFile: admin.keyFile,
    controllerManagerCertFile: kcm.certFile,
    controllerManagerKeyFile: kcm.keyFile,
    serviceAccountKeyFile,
    serviceAccountPubFile,
  };
}
