// N real sidecar sync clients (sidecar/sync startSyncClient, each with its own SnapshotStore and state
// directory, so every snapshot is validated, loaded, ACKed and then persisted with fsync as in a pod) in one
// process. Argument: JSON {operatorUrl, caFile, namespace, stateDir, pods: [{name, tokenFile}]}.
import { join } from 'node:path';
import { SnapshotStore } from '../sidecar/snapshot/store.ts';
import { startSyncClient, type SyncClient } from '../sidecar/sync/index.ts';

interface Args {
  operatorUrl: string;
  caFile: string;
  namespace: string;
  stateDir: string;
  pods: { name: string; tokenFile: string }[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const clients: { client: SyncClient; store: SnapshotStore }[] = [];
for (const pod of args.pods) {
  const store = new SnapshotStore();
  const client = await startSyncClient({
    operatorUrl: args.operatorUrl,
    caFile: args.caFile,
    tokenFile: pod.tokenFile,
    namespace: args.namespace,
    pod: pod.name,
    store,
    stateDir: join(args.stateDir, pod.name),
    log: (event, fields) => {
      if (event === 'sync.rejected' || event === 'sync.ack_failed' || event === 'sync.persist_failed')
        process.stderr.write(`${pod.name} ${event} ${JSON.stringify(fields)}\n`);
    },
  });
  clients.push({ client, store });
}
process.stdout.write(`ready ${clients.length}\n`);
process.on('SIGTERM', () => {
  void Promise.all(clients.map(async (c) => (await c.client.close(), await c.store.close()))).then(() =>
    process.exit(0),
  );
});
