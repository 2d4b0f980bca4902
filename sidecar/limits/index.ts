export * from './budget-ledger.ts';
export * from './budget-window.ts';
export * from './concurrency-limiter.ts';
export * from './rate-limiter.ts';
