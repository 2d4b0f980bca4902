export * from './affinity.ts';
export * from './breaker-registry.ts';
export * from './circuit-breaker.ts';
export * from './latency-tracker.ts';
