// Fakes and fixtures for the push/sync tests; nothing in the product imports this.
export * from './fake-desired.ts';
export * from './tls.ts';
export * from './manifests.ts';
export * from './raw-client.ts';
export * from './cluster.ts';
export * from './sidecar-process.ts';
