// client-node asks for a new undici Agent on every request; the operator's KubeConfig hands back the same
// one while the TLS material is unchanged, so requests share connections instead of each opening one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { reuseDispatchers } from './kubeconfig.ts';

function kubeConfig(ca: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from(ca).toString('base64') }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherFor(kc: KubeConfig): Promise<Dispatcher | undefined> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('reuseDispatchers', () => {
  it('without it, client-node builds a new Agent per request (what this works around)', async () => {
    const kc = kubeConfig('ca-one');
    const a = await dispatcherFor(kc);
    const b = await dispatcherFor(kc);
    assert.ok(a && b);
    assert.notEqual(a, b);
  });

  it('gives every request the same Agent while the TLS material is the same', async () => {
    const kc = kubeConfig('ca-one');
    reuseDispatchers(kc);
    const first = await dispatcherFor(kc);
    assert.ok(first);
    assert.equal(await dispatcherFor(kc), first);
    assert.equal(await dispatcherFor(kc), first);
  });

  it('builds a new Agent for new TLS material and closes the old one', async () => {
    const kc = kubeConfig('ca-one');
    reuseDispatchers(kc);
    const before = (await dispatcherFor(kc)) as Dispatcher & { closed: boolean };
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('ca-two').toString('base64') },
      ],
      users: [{ name: 'u', token: 'not-a-real-token' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const after = await dispatcherFor(kc);
    assert.ok(after);
    assert.notEqual(after, before);
    assert.equal(before.closed, true);
    assert.equal(await dispatcherFor(kc), after);
  });
});
