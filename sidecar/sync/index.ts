export { startSyncClient } from './client.ts';
export type { SyncClient, SyncClientOptions, SyncLog, SyncStatus } from './client.ts';
export { parseSnapshot, snapshotSchema, InvalidSnapshot } from './snapshot-schema.ts';
export { SnapshotFile } from './snapshot-file.ts';
