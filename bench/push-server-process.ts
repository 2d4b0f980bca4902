// The operator's real push server in its own process, fed one namespace of policy YAML through the real
// compiler, with one pod and its service-account token: what `turnout sidecar` follows in a pod. Its own
// process so that its TLS and HTTP/2 work never runs in the load generator's event loop.
// Arguments: a directory to write the token and the TLS files into, and the YAML file.
// Prints one JSON line: {"url", "caFile", "tokenFile", "namespace", "pod"}.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPushServer } from '../operator/push/index.ts';
import { FakeDesiredState, FakeReviewer, makeTestTls } from '../operator/push/testing/index.ts';

const [dir, yamlFile] = process.argv.slice(2);
if (!dir || !yamlFile) throw new Error('usage: push-server-process.ts <dir> <policy.yaml>');
const NAMESPACE = 'bench';
const POD = 'bench-pod';

const tls = await makeTestTls();
const desired = new FakeDesiredState();
const reviewer = new FakeReviewer();
desired.apply(await readFile(yamlFile, 'utf8'));
const pod = desired.addPod(NAMESPACE, POD, { app: 'bench' });
const server = await startPushServer({
  desired,
  tokenReviewer: reviewer.review,
  tls: { cert: tls.cert, key: tls.key },
  port: 0,
});
const tokenFile = join(dir, 'token');
await writeFile(tokenFile, `${reviewer.tokenFor(pod)}\n`);
process.stdout.write(
  `${JSON.stringify({ url: server.url, caFile: tls.caFile, tokenFile, namespace: NAMESPACE, pod: POD })}\n`,
);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(() => tls.remove())
    .then(() => process.exit(0));
});
