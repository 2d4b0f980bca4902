export * from './common.ts';
export * from './duration.ts';
export * from './model-provider.ts';
export * from './routing-policy.ts';
export * from './secret.ts';
export * from './snapshot.ts';
export * from './manifests.ts';
