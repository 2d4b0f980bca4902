import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigUser {
  certFile: string;
  keyFile: string;
}

/** Writes a single-context kubeconfig referring to the PEM files by path (they live beside it). */
export async function writeKubeconfig(
  path: string,
  server: string,
  caFile: string,
  user: KubeconfigUser,
  name = 'turnout-test',
): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name, user: { 'client-certificate': user.certFile, 'client-key': user.keyFile } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
