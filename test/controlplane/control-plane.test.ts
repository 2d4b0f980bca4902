// Exercises the real control plane the e2e tests build on: if any of these break, the operator and
// webhook tests would fail for reasons that have nothing to do with Turnout.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommandResult, type ControlPlane, startControlPlane } from '../helpers/control-plane.ts';

/** Fails with kubectl's own stderr, which says why far better than "expected 0". */
function ok(result: CommandResult): string {
  assert.equal(result.code, 0, `command failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Retries until `check` holds: some effects (controllers, webhook registration) are asynchronous. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not true after ${timeoutMs} ms`);
    await sleep(250);
  }
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string };
  audiences?: string[];
}

describe('control plane (real kube-apiserver + etcd + kube-controller-manager)', () => {
  let cp: ControlPlane;

  // The first run on a machine builds the binaries from Go modules: allow for that.
  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
    },
    { timeout: 90 * 60_000 },
  );

  after(async () => {
    await cp?.stop();
  });

  it('serves /readyz to kubectl over mutual TLS', async () => {
    assert.equal(ok(await cp.kubectl(['get', '--raw', '/readyz'])).trim(), 'ok');
  });

  it('stores and returns a ConfigMap in a new namespace', async () => {
    ok(await cp.kubectl(['create', 'namespace', 'cp-basic']));
    ok(await cp.kubectl(['-n', 'cp-basic', 'create', 'configmap', 'routes', '--from-literal=model=gpt-4o']));
    const cm = JSON.parse(
      ok(await cp.kubectl(['-n', 'cp-basic', 'get', 'configmap', 'routes', '-o', 'json'])),
    ) as { data?: Record<string, string> };
    assert.deepEqual(cm.data, { model: 'gpt-4o' });
  });

  it('mints audience-bound ServiceAccount tokens that TokenReview validates', async () => {
    ok(await cp.kubectl(['create', 'namespace', 'cp-tokens']));
    ok(await cp.kubectl(['-n', 'cp-tokens', 'create', 'serviceaccount', 'sidecar']));
    const token = ok(
      await cp.kubectl(['-n', 'cp-tokens', 'create', 'token', 'sidecar', '--audience', 'turnout']),
    ).trim();

    const review = async (audiences?: string[]): Promise<TokenReviewStatus> => {
      const body = {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(audiences ? { audiences } : {}) },
      };
      const out = ok(await cp.kubectl(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(body) }));
      return (JSON.parse(out) as { status: TokenReviewStatus }).status;
    };

    const forTurnout = await review(['turnout']);
    assert.equal(forTurnout.authenticated, true);
    assert.equal(forTurnout.user?.username, 'system:serviceaccount:cp-tokens:sidecar');
    assert.deepEqual(forTurnout.audiences, ['turnout']);
    // The token is not for the apiserver itself: a review with its default audiences rejects it.
    assert.notEqual((await review()).authenticated, true);
  });

  it('accepts a CRD in a server-side dry-run apply without persisting it', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.test.turnout.dev' },
      spec: {
        group: 'test.turnout.dev',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    };
    const out = ok(
      await cp.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], {
        input: JSON.stringify(crd),
      }),
    );
    assert.match(out, /widgets\.test\.turnout\.dev serverside-applied \(server dry run\)/);
    const get = await cp.kubectl(['get', 'crd', 'widgets.test.turnout.dev']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /NotFound/);
  });

  it('runs the controllers: default ServiceAccount appears, namespace deletion completes', async () => {
    ok(await cp.kubectl(['create', 'namespace', 'cp-controllers']));
    await eventually(
      'default ServiceAccount in cp-controllers',
      async () => (await cp.kubectl(['-n', 'cp-controllers', 'get', 'serviceaccount', 'default'])).code === 0,
    );
    await eventually(
      'kube-root-ca.crt in cp-controllers',
      async () =>
        (await cp.kubectl(['-n', 'cp-controllers', 'get', 'configmap', 'kube-root-ca.crt'])).code === 0,
    );
    ok(await cp.kubectl(['-n', 'cp-controllers', 'create', 'configmap', 'doomed']));
    ok(await cp.kubectl(['delete', 'namespace', 'cp-controllers', '--wait', '--timeout=90s']));
    assert.match((await cp.kubectl(['get', 'namespace', 'cp-controllers'])).stderr, /NotFound/);
  });

  it('enforces PodSecurity admission', async () => {
    ok(await cp.kubectl(['create', 'namespace', 'cp-restricted']));
    ok(
      await cp.kubectl([
        'label',
        'namespace',
        'cp-restricted',
        'pod-security.kubernetes.io/enforce=restricted',
      ]),
    );
    await eventually(
      'default ServiceAccount in cp-restricted',
      async () => (await cp.kubectl(['-n', 'cp-restricted', 'get', 'serviceaccount', 'default'])).code === 0,
    );
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged' },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };
    const result = await cp.kubectl(['-n', 'cp-restricted', 'create', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(pod),
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /violates PodSecurity "restricted/);
  });

  describe('mutating admission webhook served from the test process', () => {
    let server: Server;

    before(async () => {
      // The apiserver's serving cert has an IP:127.0.0.1 SAN and is signed by the test CA: reuse it.
      const [cert, key] = await Promise.all([
        readFile(cp.pki.servingCertFile),
        readFile(cp.pki.servingKeyFile),
      ]);
      server = createServer({ cert, key }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string } };
          const patch = [
            { op: 'add', path: '/metadata/annotations', value: { 'test.turnout.dev/mutated': 'yes' } },
          ];
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: review.request.uid,
                allowed: true,
                patchType: 'JSONPatch',
                patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
              },
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('calls the webhook and applies its patch', async () => {
      const port = (server.address() as AddressInfo).port;
      const caBundle = (await readFile(cp.caFile)).toString('base64');
      const config = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'cp-test-mutator' },
        webhooks: [
          {
            name: 'mutate.test.turnout.dev',
            clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle },
            rules: [
              { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] },
            ],
            namespaceSelector: { matchLabels: { 'cp-test-webhook': 'on' } },
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
          },
        ],
      };
      ok(await cp.kubectl(['create', 'namespace', 'cp-webhook']));
      ok(await cp.kubectl(['label', 'namespace', 'cp-webhook', 'cp-test-webhook=on']));
      ok(await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(config) }));
      // The apiserver picks up new webhook configurations asynchronously.
      let n = 0;
      await eventually('configmap mutated by the webhook', async () => {
        const name = `probe-${n++}`;
        ok(await cp.kubectl(['-n', 'cp-webhook', 'create', 'configmap', name]));
        const out = ok(
          await cp.kubectl([
            '-n',
            'cp-webhook',
            'get',
            'configmap',
            name,
            '-o',
            'jsonpath={.metadata.annotations}',
          ]),
        );
        return out.includes('"test.turnout.dev/mutated":"yes"');
      });
    });
  });

  it('runs the helm built alongside the control plane', async () => {
    assert.match(ok(await cp.helm(['version', '--short'])), /^v3\.\d+\.\d+/);
  });
});
