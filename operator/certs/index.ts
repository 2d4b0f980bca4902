export { ControlTls } from './control-tls.ts';
export type { ControlTlsOptions } from './control-tls.ts';
export { MeshCertificates, SIDECAR_HOSTS } from './mesh.ts';
export type { MeshOptions } from './mesh.ts';
export { transparentHosts, CANONICAL_HOSTS, PLACEHOLDER_HOST } from './hosts.ts';
export { createAuthority, issueLeaf, validity, splitPem, subjectAltNames } from './authority.ts';
export type { KeyPair } from './authority.ts';
export { planAuthority, leafProblem, trustBundle, renewThresholdMs } from './rotation.ts';
export type { AuthorityState, AuthorityTiming } from './rotation.ts';
