export * from './cache-key.ts';
export * from './cache-registry.ts';
export * from './response-cache.ts';
