// Transparent egress end to end: a pod annotated turnout.dev/mode=transparent is injected through the
// real apiserver; the sidecar runs (`turnout sidecar`) with exactly the env, token and volumes the
// injected spec names; curl and the `openai` npm client call https://api.openai.com unchanged and are
// routed by the RoutingPolicy to a fake OpenAI upstream; the namespace's leaf rotates mid-run. Each
// namespace has its own mesh CA, kept in the operator's namespace: another namespace's pods do not
// trust this one's leaf, and the CA shared by earlier versions is deleted.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken, spawnSidecar, type SidecarProcess } from '../../operator/push/testing/index.ts';
import { startFakeProvider } from '../fakes/index.ts';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.ts';
import { VolumeMirror } from './transparent-kubelet.ts';
import {
  createPod,
  eventually,
  freePort,
  get,
  helmInstall,
  namespace,
  ok,
  podManifest,
  startReplica,
  SYSTEM_NS,
  type PodJson,
  type Replica,
} from './webhook-harness.ts';

const NS = 'egress';
/** Another tenant with transparent pods, and no policies of its own. */
const OTHER_NS = 'egress-other';
const CLIENT = fileURLToPath(new URL('./transparent-client.ts', import.meta.url));
type Fake = Awaited<ReturnType<typeof startFakeProvider>>;

const manifests = (endpoint: string) => [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'openai', namespace: NS },
    stringData: { apiKey: 'sk-egress-provider-key' },
  },
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'ModelProvider',
    metadata: { name: 'openai', namespace: NS },
    spec: {
      type: 'openai',
      endpoint,
      auth: { secretRef: { name: 'openai', key: 'apiKey' } },
      models: [{ name: 'gpt-4o-mini', capabilities: ['chat', 'streaming'] }],
    },
  },
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: { name: 'chat', namespace: NS },
    spec: {
      workloadSelector: { matchLabels: { app: 'chat' } },
      routes: [
        {
          name: 'downgrade',
          match: { model: ['gpt-4o*'] },
          targets: [{ provider: 'openai', model: 'gpt-4o-mini' }],
        },
      ],
    },
  },
];

/** Serial of the certificate a TLS client asking for api.openai.com gets from the sidecar now. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'api.openai.com', ca }, () => {
      resolve(s.getPeerCertificate().serialNumber ?? '');
      s.end();
    });
    s.once('error', reject);
  });
}

describe('transparent egress: unchanged clients calling https://api.openai.com are routed by policy', () => {
  let cp: ControlPlane;
  let dir: string;
  let fake: Fake;
  let operator: Replica | undefined;
  let sidecar: SidecarProcess | undefined;
  let pod: PodJson;
  let tlsPort: number;
  const mirrors: VolumeMirror[] = [];
  let appEnv: Record<string, string> = {};

  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
      dir = await mkdtemp(join(tmpdir(), 'turnout-transparent-'));
      fake = await startFakeProvider({ dialect: 'openai' });
      const ports = { webhook: await freePort(), push: await freePort() };
      await helmInstall(cp, {
        'webhook.url': `https://127.0.0.1:${ports.webhook}/mutate`,
        'tls.extraIpAddresses': '{127.0.0.1}',
        'injection.operatorUrl': `https://127.0.0.1:${ports.push}`,
        // A leaf that renews every ~15 s, so a rotation happens while the clients run.
        'mesh.leafLifetime': '24s',
        'mesh.syncInterval': '1s',
      });
      // What an earlier version left: one mesh CA for all namespaces. The operator must delete it.
      ok(
        await cp.kubectl([
          '-n',
          SYSTEM_NS,
          'create',
          'secret',
          'generic',
          'turnout-mesh-ca',
          '--from-literal=ca.crt=shared',
        ]),
      );
      operator = await startReplica(cp, dir, 'operator', ports);
      await namespace(cp, NS, { 'turnout.dev/inject': 'true' });
      ok(
        await cp.kubectl(['apply', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests(fake.url) }),
        }),
      );
      ok(
        await cp.kubectl([
          '-n',
          NS,
          'wait',
          '--for=condition=Accepted',
          'routingpolicy/chat',
          '--timeout=60s',
        ]),
      );
      pod = await eventually('transparent pod injected with api.openai.com aliased', async () => {
        const name = `chat-${Date.now()}`;
        const p = await createPod(
          cp,
          podManifest(NS, name, {
            labels: { app: 'chat' },
            annotations: { 'turnout.dev/mode': 'transparent' },
          }),
        );
        return p.spec.hostAliases?.[0]?.hostnames.includes('api.openai.com') ? p : undefined;
      });
      await startPodLikeKubelet();
    },
    { timeout: 30 * 60_000 },
  );

  /** Volumes, token and env exactly as the injected spec says; only in-pod paths and ports are mapped. */
  async function startPodLikeKubelet() {
    const ca = new VolumeMirror(cp, join(dir, 'ca'), NS, 'configmap', 'turnout-ca');
    const tls = new VolumeMirror(cp, join(dir, 'tls'), NS, 'secret', 'turnout-mesh-tls');
    await eventually('namespace CA files and leaf published', async () => {
      await ca.sync();
      await tls.sync();
      return true;
    });
    await ca.start(500);
    await tls.start(500);
    mirrors.push(ca, tls);
    const tokenFile = join(dir, 'token');
    await writeFile(
      tokenFile,
      await mintToken((a, o) => cp.kubectl(a, o), NS, {
        audience: 'turnout',
        sa: 'default',
        pod: { namespace: NS, name: pod.metadata.name, uid: pod.metadata.uid, labels: {} },
      }),
    );
    const paths: [string, string][] = [
      ['/var/run/turnout/ca', ca.dir],
      ['/var/run/turnout/tls', tls.dir],
      ['/var/run/secrets/turnout/token', tokenFile],
      ['/var/run/turnout/state', join(dir, 'state')],
    ];
    const mapPath = (v: string) =>
      paths.reduce((acc, [from, to]) => (acc.startsWith(from) ? to + acc.slice(from.length) : acc), v);
    tlsPort = await freePort();
    const ports: Record<string, string> = {
      TURNOUT_LISTEN: '127.0.0.1:0',
      TURNOUT_METRICS_LISTEN: '127.0.0.1:0',
      // In the pod: 127.0.0.1:443 (the sysctl allows it). Here a free port, reached by the test's resolver.
      TURNOUT_TRANSPARENT_LISTEN: `127.0.0.1:${tlsPort}`,
    };
    const env: Record<string, string> = {};
    for (const e of pod.spec.initContainers?.[0]?.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      env[e.name] =
        ports[e.name] ??
        (field === 'metadata.name'
          ? pod.metadata.name
          : field === 'metadata.namespace'
            ? NS
            : mapPath(e.value ?? ''));
    }
    assert.equal(
      pod.spec.initContainers?.[0]?.env?.find((e) => e.name === 'TURNOUT_TRANSPARENT_LISTEN')?.value,
      '127.0.0.1:443',
    );
    sidecar = await spawnSidecar(env);
    appEnv = Object.fromEntries(
      (pod.spec.containers[0]?.env ?? []).map((e) => [e.name, mapPath(e.value ?? '')]),
    );
    await eventually(
      'sidecar has its snapshot',
      async () => (await fetch(`${sidecar?.url}/readyz`)).status === 200,
      60_000,
    );
  }

  after(async () => {
    for (const m of mirrors) m.stop();
    await sidecar?.stop();
    await operator?.stop();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  it('injects hostAliases, the port sysctl, CA trust env and a private /etc/hosts for the sidecar', () => {
    assert.deepEqual(pod.spec.hostAliases, [{ ip: '127.0.0.1', hostnames: ['api.openai.com'] }]);
    assert.deepEqual(pod.spec.securityContext?.sysctls, [
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
    ]);
    assert.equal(appEnv.NODE_EXTRA_CA_CERTS?.endsWith('/mesh-ca.crt'), true);
    assert.equal(appEnv.SSL_CERT_FILE?.endsWith('/bundle.crt'), true);
    assert.equal(appEnv.OPENAI_BASE_URL, undefined, 'transparent mode leaves the app’s base URL alone');
    assert.ok(
      pod.spec.initContainers?.[0]?.volumeMounts?.some(
        (m) => m.mountPath === '/etc/hosts' && m.subPath === 'hosts',
      ),
    );
  });

  it('curl https://api.openai.com with the injected CA bundle is routed by policy, with the provider’s key', async () => {
    const before = fake.requests.length;
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'from curl' }] });
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '-D',
          '-',
          '--connect-to',
          `api.openai.com:443:127.0.0.1:${tlsPort}`,
          'https://api.openai.com/v1/chat/completions',
          '-H',
          'content-type: application/json',
          '-H',
          'authorization: Bearer sk-the-apps-own',
          '-d',
          body,
        ],
        { env: { ...process.env, CURL_CA_BUNDLE: appEnv.CURL_CA_BUNDLE ?? '' } },
        (e, stdout, stderr) => (e ? reject(new Error(`${stderr}${stdout}`)) : resolve(stdout)),
      ),
    );
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /x-turnout-route: downgrade/i);
    assert.match(out, /x-turnout-model: gpt-4o-mini/i);
    assert.match(out, /echo:gpt-4o-mini:from curl/);
    const upstream = fake.requests.slice(before).at(-1);
    assert.equal(upstream?.apiKey, 'sk-egress-provider-key');
    // Explicit mode gives the same decision for the same request.
    const explicit = await fetch(`${sidecar?.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(explicit.headers.get('x-turnout-route'), 'downgrade');
    assert.equal(explicit.headers.get('x-turnout-model'), 'gpt-4o-mini');
  });

  it('the openai npm client, unchanged, keeps working through a certificate rotation: nothing dropped', async (t) => {
    const ca = appEnv.NODE_EXTRA_CA_CERTS ?? '';
    const { readFile } = await import('node:fs/promises');
    const serials = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        serials.add(
          await servedSerial(tlsPort, await readFile(ca, 'utf8')).catch((e: Error) => `error: ${e.message}`),
        );
        await sleep(500);
      }
    })();
    const child = spawn(process.execPath, [CLIENT], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: ca,
        OPENAI_API_KEY: appEnv.OPENAI_API_KEY ?? '',
        SIDECAR: `127.0.0.1:${tlsPort}`,
        DURATION_MS: '40000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    polling = false;
    await poller;
    assert.equal(code, 0, out);
    const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      ok: number;
      failed: number;
      errors: string[];
      routes: Record<string, number>;
      streamed: number;
    };
    t.diagnostic(
      `${summary.ok} calls (${summary.streamed} streamed), ${summary.failed} failed, ${serials.size} leaf certificates served`,
    );
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.failed, 0);
    assert.ok(summary.ok > 100 && summary.streamed > 20, JSON.stringify(summary));
    assert.deepEqual(Object.keys(summary.routes), ['downgrade']);
    const errors = [...serials].filter((s) => s.startsWith('error'));
    assert.deepEqual(errors, []);
    assert.ok(serials.size >= 2, `the leaf rotated during the run (${serials.size} certificates served)`);
    assert.ok(sidecar?.lines.some((l) => l.msg === 'transparent.certificate_reloaded'));
    assert.equal(sidecar?.child.exitCode, null, 'the sidecar never restarted');
  });

  it('gives every namespace its own mesh CA, kept in the operator namespace: another tenant does not trust this leaf', async () => {
    await namespace(cp, OTHER_NS, { 'turnout.dev/inject': 'true' });
    const other = await createPod(
      cp,
      podManifest(OTHER_NS, `other-${Date.now()}`, { annotations: { 'turnout.dev/mode': 'transparent' } }),
    );
    assert.equal(other.metadata.annotations?.['turnout.dev/injected'], 'transparent');
    const caFiles = (ns: string) =>
      eventually(`CA files in ${ns}`, async () => {
        const cm = await get<{ data: Record<string, string> }>(cp, [
          '-n',
          ns,
          'get',
          'configmap',
          'turnout-ca',
        ]);
        return cm.data['mesh-ca.crt'] && cm.data['bundle.crt'] ? cm.data : undefined;
      });
    const ours = await caFiles(NS);
    const theirs = await caFiles(OTHER_NS);
    assert.notEqual(ours['mesh-ca.crt'], theirs['mesh-ca.crt']);
    // The sidecar serving api.openai.com in NS: trusted with NS's files, refused with the other
    // namespace's (NODE_EXTRA_CA_CERTS and SSL_CERT_FILE alike).
    await servedSerial(tlsPort, ours['mesh-ca.crt'] ?? '');
    for (const file of ['mesh-ca.crt', 'bundle.crt'])
      await assert.rejects(
        servedSerial(tlsPort, theirs[file] ?? ''),
        /self-signed|unable to verify|local issuer/i,
      );
    // CA keys live only in the operator's namespace, one Secret per namespace, owned by the Namespace.
    for (const ns of [NS, OTHER_NS]) {
      const ca = await get<{
        data: Record<string, string>;
        metadata: { ownerReferences?: { kind: string; name: string }[] };
      }>(cp, ['-n', SYSTEM_NS, 'get', 'secret', `turnout-mesh-ca-${ns}`]);
      assert.ok(ca.data['authority.key']);
      assert.deepEqual(
        ca.metadata.ownerReferences?.map((r) => [r.kind, r.name]),
        [['Namespace', ns]],
      );
      const leaf = await get<{ data: Record<string, string> }>(cp, [
        '-n',
        ns,
        'get',
        'secret',
        'turnout-mesh-tls',
      ]);
      assert.deepEqual(Object.keys(leaf.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    }
    await eventually('the shared CA of an earlier version deleted', async () => {
      const r = await cp.kubectl(['-n', SYSTEM_NS, 'get', 'secret', 'turnout-mesh-ca']);
      return r.code !== 0 && /NotFound/.test(r.stderr);
    });
    // Deleting the namespace deletes its CA (the garbage collector follows the owner reference).
    ok(await cp.kubectl(['delete', 'namespace', OTHER_NS, '--wait=false']));
    await eventually(
      'the CA Secret of a deleted namespace garbage-collected',
      async () => {
        const r = await cp.kubectl(['-n', SYSTEM_NS, 'get', 'secret', `turnout-mesh-ca-${OTHER_NS}`]);
        return r.code !== 0 && /NotFound/.test(r.stderr);
      },
      120_000,
    );
  });
});
