export { startPushServer, DEFAULT_PUSH_PORT } from './server.ts';
export type { PushServerOptions, RunningPushServer } from './server.ts';
export { kubeTokenReviewer } from './token-review.ts';
export type { TokenReviewer, TokenReviewResult } from './token-review.ts';
export { SyncTracker } from './sync-tracker.ts';
export type { PushLog } from './publisher.ts';
export type { TlsFiles } from './tls.ts';
export * from './protocol.ts';
export * from './spend-protocol.ts';
