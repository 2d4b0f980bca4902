// Test-only: a CA and a server certificate made with openssl, as the chart's mounted Secret would hold.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestTls {
  dir: string;
  caFile: string;
  cert: string;
  key: string;
  remove(): Promise<void>;
}

/** A CA and a server certificate for 127.0.0.1/localhost (P-256, made with openssl). */
export async function makeTestTls(): Promise<TestTls> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-push-tls-'));
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '30',
    '-subj',
    '/CN=turnout-push-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  await openssl([
    'req',
    ...ec,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=turnout-operator',
  ]);
  await writeFile(
    f('server.ext'),
    'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '30',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.crt'),
  ]);
  return {
    dir,
    caFile: f('ca.crt'),
    cert: f('server.crt'),
    key: f('server.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, (e, _out, stderr) =>
      e ? reject(new Error(`openssl ${args[0]} failed: ${stderr}`)) : resolve(),
    ),
  );
}
