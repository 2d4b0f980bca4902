// `turnout dev` reloads on file change, keeps the last good snapshot on an invalid edit, and never
// drops a call in flight across a reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeProvider } from '../fakes/index.ts';
import { closeAll, startFakeUpstreams } from '../helpers/fake-upstreams.ts';
import { devProcesses, startTurnout } from '../helpers/turnout-process.ts';
import { policyYaml, providersYaml } from './manifests.ts';

let primary: FakeProvider;
let secondary: FakeProvider;
const dev = devProcesses();

before(async () => {
  ({ primary, secondary } = await startFakeUpstreams({ primary: 'openai', secondary: 'openai' }));
});

after(async () => {
  await dev.closeAll();
  await closeAll({ primary, secondary });
});

/** `turnout dev` on these files, as soon as it serves: some tests start it on a config that does not load. */
async function run(files: Record<string, string>) {
  const turnout = await dev.start(files, { servingOnly: true });
  return { config: turnout.config, turnout };
}

const chat = (url: string, model = 'smart') =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  });

describe('turnout dev reloads', () => {
  it('applies a valid edit, keeps the last good snapshot on an invalid one, and prints why', async () => {
    const { config, turnout } = await run({
      'providers.yaml': providersYaml(primary.url, secondary.url),
      'policy.yaml': policyYaml('smart'),
    });
    await turnout.waitForLine(/loaded snapshot/);
    assert.equal((await chat(turnout.url)).headers.get('x-turnout-route'), 'smart');

    await config.write('policy.yaml', policyYaml('renamed'));
    await turnout.waitForLine(/route=app\/renamed|loaded snapshot .*\n?/, 5000);
    await waitUntil(async () => (await chat(turnout.url)).headers.get('x-turnout-route') === 'renamed');

    await config.write('policy.yaml', policyYaml('renamed').replace('provider: primary', 'provider: nosuch'));
    const diag = await turnout.waitForLine(
      /spec\.routes\[0\]\.targets\[0\]\.provider: no ModelProvider "nosuch"/,
    );
    assert.match(diag, /RoutingPolicy t\/app \(policy\.yaml\)/, 'names the object and the file');
    await turnout.waitForLine(/keeping the last good snapshot/);
    const res = await chat(turnout.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-route'), 'renamed', 'still serving the last good snapshot');

    await config.write(
      'policy.yaml',
      'kind: RoutingPolicy\napiVersion: turnout.dev/v1alpha1\nmetadata: {name: app, namespace: t}\nspec: {routes: [}\n',
    );
    await turnout.waitForLine(/not valid YAML/);
    assert.equal((await chat(turnout.url)).status, 200);
  });

  it('does not drop a call in flight while the config reloads', async () => {
    const { config, turnout } = await run({
      'providers.yaml': providersYaml(primary.url, secondary.url),
      'policy.yaml': policyYaml('before'),
    });
    await turnout.waitForLine(/loaded snapshot/);
    primary.onNext({ kind: 'ok', content: 'slow but complete', delayMs: 1500 });
    const inFlight = chat(turnout.url);
    await primary.waitFor((r) => r.endpoint === 'chat.completions', 3000);
    await config.write('policy.yaml', policyYaml('after'));
    let seen = '';
    await waitUntil(async () => {
      const r = await chat(turnout.url);
      seen = `${r.status} ${r.headers.get('x-turnout-route')} ${await r.text()}`;
      return r.headers.get('x-turnout-route') === 'after';
    }).catch((e: Error) => assert.fail(`${e.message}; last answer: ${seen}; output:\n${turnout.output()}`));
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-route'), 'before');
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, 'slow but complete');
  });

  it('is not ready until a valid config loads, then becomes ready without a restart', async () => {
    const { config, turnout } = await run({ 'policy.yaml': policyYaml() });
    await turnout.waitForLine(/nothing loaded yet/);
    const notReady = await fetch(`${turnout.url}/readyz`);
    assert.equal(notReady.status, 503);
    const refused = await chat(turnout.url);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'not_ready');
    await config.write('providers.yaml', providersYaml(primary.url, secondary.url));
    await waitUntil(async () => (await fetch(`${turnout.url}/readyz`)).status === 200);
    assert.equal((await chat(turnout.url)).status, 200);
  });

  it('aborts the upstream call when the caller disconnects', async () => {
    const { turnout } = await run({
      'providers.yaml': providersYaml(primary.url, secondary.url),
      'policy.yaml': policyYaml(),
    });
    await turnout.waitForLine(/loaded snapshot/);
    primary.reset();
    primary.onNext({ kind: 'hang' });
    const controller = new AbortController();
    const gone = fetch(`${turnout.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hang' }] }),
    }).catch(() => undefined);
    await primary.waitFor((r) => r.stream === false && JSON.stringify(r.body).includes('hang'), 3000);
    controller.abort();
    await gone;
    await waitUntil(
      () => primary.requests.some((r) => JSON.stringify(r.body).includes('hang') && r.aborted),
      1000,
    );
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

describe('the routing port is loopback only', () => {
  it('refuses to bind a non-loopback address, and serves health and metrics on a separate port', async () => {
    const t = await dev.start(
      { 'providers.yaml': providersYaml(primary.url, secondary.url), 'policy.yaml': policyYaml() },
      { args: ['--metrics-listen', '0.0.0.0:0'] },
    );
    await assert.rejects(
      startTurnout(['dev', '--config', t.config.dir, '--listen', '0.0.0.0:0']),
      /must bind a loopback address .* can spend this pod's provider credentials/,
    );
    const metricsUrl = /metrics on (http:\/\/\S+)/.exec(await t.waitForLine(/metrics on/))?.[1] ?? '';
    assert.equal((await fetch(`${metricsUrl}/readyz`)).status, 200);
    assert.match(await (await fetch(`${metricsUrl}/metrics`)).text(), /turnout_requests_total/);
    const chatThere = await fetch(`${metricsUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(chatThere.status, 404, 'no routing on the scrape port');
  });
});
