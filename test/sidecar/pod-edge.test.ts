// The routing port's web-page checks in a pod: a real `turnout sidecar` with its snapshot pushed by an
// in-process push server. There the port is reached by the pod's own containers only (loopback, or the
// transparent listener), so an app that forwards its browser caller's Origin or Host is served, on the
// loopback port and through the transparent listener alike; TURNOUT_REFUSE_WEB_PAGES=true brings back
// `turnout dev`'s refusals (test/sidecar/http-edge.test.ts) for a pod that runs a browser itself.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAuthority, issueLeaf } from '../../operator/certs/authority.ts';
import { startPushServer, type RunningPushServer } from '../../operator/push/index.ts';
import {
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  spawnSidecar,
  type SidecarProcess,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import * as manifest from '../helpers/manifests.ts';
import { PRIMARY_KEY } from './manifests.ts';

const HOUR = 3_600_000;
/** What a backend-for-frontend forwards from the browser that called it. */
const FORWARDED = { origin: 'https://shop.example', host: 'shop.example' };

interface Answer {
  status: number;
  text: string;
}

/** One request with full control of its headers (fetch will not send a foreign Host). */
function send(
  url: string,
  path: string,
  headers: Record<string, string>,
  opts: { method?: string; body?: string; ca?: string; servername?: string } = {},
): Promise<Answer> {
  const { method = 'POST', body, ca, servername } = opts;
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers, agent: false, ...(ca && { ca }), ...(servername && { servername }) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const chat = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}';
const json = { 'content-type': 'application/json' };

describe('turnout sidecar (pod mode): no web-page checks on a port only the pod reaches', () => {
  let upstream: FakeProvider;
  let push: RunningPushServer;
  let tls: TestTls;
  let dir: string;
  let meshCa: string;
  const desired = new FakeDesiredState();
  const reviewer = new FakeReviewer();
  const sidecars: SidecarProcess[] = [];

  /** A sidecar for a new pod of namespace t, with transparent egress, once its snapshot has arrived. */
  const startPodSidecar = async (name: string, extra: Record<string, string> = {}) => {
    const pod = desired.addPod('t', name, { app: 'shop' });
    const tokenFile = join(dir, `${name}.token`);
    await writeFile(tokenFile, reviewer.tokenFor(pod));
    const sidecar = await spawnSidecar({
      TURNOUT_OPERATOR_URL: push.url,
      TURNOUT_CA_FILE: tls.caFile,
      TURNOUT_TOKEN_FILE: tokenFile,
      TURNOUT_POD_NAMESPACE: 't',
      TURNOUT_POD_NAME: name,
      TURNOUT_TRANSPARENT_LISTEN: '127.0.0.1:0',
      TURNOUT_TRANSPARENT_CERT: join(dir, 'tls.crt'),
      TURNOUT_TRANSPARENT_KEY: join(dir, 'tls.key'),
      ...extra,
    });
    sidecars.push(sidecar);
    await sidecar.waitFor((l) => l.msg === 'sync.loaded');
    const serving = await sidecar.waitFor((l) => l.msg === 'serving');
    return { url: sidecar.url, transparentUrl: String(serving.transparentUrl) };
  };

  before(async () => {
    upstream = await startFakeProvider({ dialect: 'openai' });
    tls = await makeTestTls();
    dir = await mkdtemp(join(tmpdir(), 'turnout-pod-edge-'));
    // The transparent listener's certificate, as the injector issues it from the mesh CA.
    const ca = createAuthority('pod-edge test CA', HOUR, Date.now());
    const leaf = issueLeaf(
      ca,
      { commonName: 't', dnsNames: ['api.openai.com'], lifetimeMs: HOUR },
      Date.now(),
    );
    meshCa = ca.cert;
    await writeFile(join(dir, 'tls.crt'), leaf.cert);
    await writeFile(join(dir, 'tls.key'), leaf.key);
    desired.apply(
      manifest.file(
        manifest.secret({ primary: PRIMARY_KEY }),
        manifest.modelProvider({
          name: 'primary',
          type: 'openai',
          endpoint: upstream.url,
          key: 'primary',
          models: '[{ name: gpt-4o, capabilities: [chat, streaming] }]',
        }),
        manifest.routingPolicy(`
    - name: main
      match: { model: ["gpt-4o"] }
      targets: [{ provider: primary, model: gpt-4o }]`),
      ),
    );
    push = await startPushServer({
      desired,
      tokenReviewer: reviewer.review,
      tls: { cert: tls.cert, key: tls.key },
      port: 0,
    });
  });

  after(async () => {
    for (const s of sidecars) await s.stop();
    await push?.close();
    await upstream?.close();
    await tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves an app that forwards its caller’s Origin and Host, on every path of the routing port', async () => {
    const { url } = await startPodSidecar('web-1');
    const before = upstream.count;
    const call = await send(url, '/v1/chat/completions', { ...json, ...FORWARDED }, { body: chat });
    assert.equal(call.status, 200, call.text);
    assert.equal(upstream.count, before + 1, 'the call reached the provider');
    const models = await send(url, '/v1/models', FORWARDED, { method: 'GET' });
    assert.equal(models.status, 200, models.text);
    assert.match(models.text, /"gpt-4o"/);
    const metrics = await send(url, '/metrics', { host: 'shop.example' }, { method: 'GET' });
    assert.equal(metrics.status, 200);
  });

  it('serves transparent egress (Host is the provider’s name), with or without a forwarded Origin', async () => {
    const { transparentUrl } = await startPodSidecar('web-2');
    const tlsOpts = { body: chat, ca: meshCa, servername: 'api.openai.com' };
    const variants: Record<string, string>[] = [{}, { origin: FORWARDED.origin }];
    for (const headers of variants) {
      const answer = await send(
        transparentUrl,
        '/v1/chat/completions',
        { ...json, host: 'api.openai.com', ...headers },
        tlsOpts,
      );
      assert.equal(answer.status, 200, `${JSON.stringify(headers)}: ${answer.text}`);
    }
  });

  it('refuses web pages as `turnout dev` does when TURNOUT_REFUSE_WEB_PAGES=true', async () => {
    const { url, transparentUrl } = await startPodSidecar('browser-pod', {
      TURNOUT_REFUSE_WEB_PAGES: 'true',
    });
    const before = upstream.count;
    const csrf = await send(
      url,
      '/v1/chat/completions',
      { ...json, origin: FORWARDED.origin },
      { body: chat },
    );
    assert.equal(csrf.status, 403);
    assert.match(csrf.text, /"code":"forbidden"/);
    const rebound = await send(
      url,
      '/v1/chat/completions',
      { ...json, host: FORWARDED.host },
      { body: chat },
    );
    assert.equal(rebound.status, 403);
    assert.equal(upstream.count, before, 'nothing refused reached the provider');
    // The transparent listener keeps its provider Host: only Origin is refused there.
    const tlsOpts = { body: chat, ca: meshCa, servername: 'api.openai.com' };
    const plain = await send(
      transparentUrl,
      '/v1/chat/completions',
      { ...json, host: 'api.openai.com' },
      tlsOpts,
    );
    assert.equal(plain.status, 200, plain.text);
    const fromPage = await send(
      transparentUrl,
      '/v1/chat/completions',
      { ...json, host: 'api.openai.com', origin: FORWARDED.origin },
      tlsOpts,
    );
    assert.equal(fromPage.status, 403);
    assert.equal((await send(url, '/v1/chat/completions', json, { body: chat })).status, 200);
  });
});
