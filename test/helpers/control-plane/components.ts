import { join } from 'node:path';
import type { Pki } from './pki.ts';

/** The in-cluster address of the `kubernetes` Service: first IP of the service range. */
export const serviceCidr = '10.96.0.0/16';
export const kubernetesServiceIp = '10.96.0.1';
export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export interface EtcdPorts {
  client: number;
  peer: number;
}

export function etcdArgs(dataDir: string, ports: EtcdPorts): string[] {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  return [
    '--name=default',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Throwaway data: fsync buys nothing and costs seconds per test run on slow CI disks.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export interface ApiServerConfig {
  pki: Pki;
  etcdUrl: string;
  securePort: number;
  /** Audiences the apiserver accepts as "for me"; the issuer is always first. */
  extraAudiences: readonly string[];
}

export function apiServerArgs(config: ApiServerConfig): string[] {
  const { pki } = config;
  const audiences = [serviceAccountIssuer, ...config.extraAudiences];
  return [
    `--etcd-servers=${config.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${config.securePort}`,
    `--tls-cert-file=${pki.servingCertFile}`,
    `--tls-private-key-file=${pki.servingKeyFile}`,
    `--client-ca-file=${pki.caFile}`,
    '--authorization-mode=Node,RBAC',
    // Added to the defaults, which already include MutatingAdmissionWebhook,
    // ValidatingAdmissionWebhook, ServiceAccount and PodSecurity.
    '--enable-admission-plugins=NodeRestriction',
    `--service-cluster-ip-range=${serviceCidr}`,
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.serviceAccountPubFile}`,
    `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
    `--api-audiences=${audiences.join(',')}`,
    '--allow-privileged=true',
    // No kubelets or pods ever run, so the `kubernetes` Service endpoints would point at a
    // loopback address nothing in-cluster could use; skip reconciling them.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

export interface ControllerManagerConfig {
  pki: Pki;
  kubeconfig: string;
}

/** The controllers tests rely on: ServiceAccounts, namespace deletion, GC, kube-root-ca.crt. */
export const controllers = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'root-ca-certificate-publisher-controller',
];

export function controllerManagerArgs(config: ControllerManagerConfig): string[] {
  return [
    `--kubeconfig=${config.kubeconfig}`,
    `--controllers=${controllers.join(',')}`,
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${config.pki.serviceAccountKeyFile}`,
    `--root-ca-file=${config.pki.caFile}`,
    '--leader-elect=false',
    // Nothing scrapes its metrics/healthz; not serving means no port to allocate or collide on.
    '--secure-port=0',
    '--profiling=false',
  ];
}

export function logFile(dir: string, component: string): string {
  return join(dir, `${component}.log`);
}
