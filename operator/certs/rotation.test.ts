import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createAuthority, issueLeaf, splitPem, type KeyPair } from './authority.ts';
import { fromSecret, toSecret } from './authority-secret.ts';
import { leafProblem, planAuthority, trustBundle, type AuthorityState } from './rotation.ts';

const S = 1000;
const timing = { lifetimeMs: 300 * S, promoteAfterMs: 20 * S };

const issuerOf = (leaf: string, bundle: string) =>
  splitPem(bundle).some((ca) => new X509Certificate(leaf).checkIssued(new X509Certificate(ca)));

describe('planAuthority: a CA rotation never serves a leaf its clients do not trust', () => {
  it('creates, publishes the successor early, promotes it after the grace period, then forgets the old one', () => {
    let t = 1_000_000_000_000;
    let state: AuthorityState = {};
    const steps: string[] = [];
    // What clients trust lags the Secret by up to `promoteAfterMs`: track bundles by publication time.
    const published: { at: number; bundle: string }[] = [];
    let leaf: KeyPair | undefined;
    for (let i = 0; i < 80; i++, t += 10 * S) {
      const plan = planAuthority(state, timing, t, () => createAuthority(`ca ${t}`, timing.lifetimeMs, t));
      state = plan.state;
      steps.push(...plan.steps);
      published.push({ at: t, bundle: trustBundle(state) });
      const ca = state.current as KeyPair;
      if (leafProblem(leaf, ca, { names: ['x.example'], lifetimeMs: 60 * S }, t))
        leaf = issueLeaf(ca, { commonName: 'x', dnsNames: ['x.example'], lifetimeMs: 60 * S }, t);
      // A client whose view is as old as the grace period still trusts the leaf served now.
      const stale = [...published].reverse().find((p) => p.at <= t - timing.promoteAfterMs) ?? published[0];
      assert.ok(
        issuerOf(leaf!.cert, stale!.bundle),
        `at step ${i} a client with a ${timing.promoteAfterMs} ms old bundle would reject the leaf`,
      );
      assert.ok(issuerOf(leaf!.cert, trustBundle(state)));
    }
    assert.deepEqual(steps.slice(0, 4), ['created', 'published-next', 'promoted', 'dropped-previous']);
    assert.ok(steps.filter((s) => s === 'promoted').length >= 2, steps.join(','));
  });

  it('does not promote a successor whose publication time was lost', () => {
    const t = 1_000_000_000_000;
    const current = createAuthority('a', timing.lifetimeMs, t);
    const next = createAuthority('b', timing.lifetimeMs, t);
    const plan = planAuthority({ current, next }, timing, t + 250 * S, () => assert.fail('no new CA'));
    assert.equal(plan.state.current, current);
    assert.equal(plan.state.nextPublishedAt, t + 250 * S);
  });

  it('recreates an expired CA at once (nothing could still trust it)', () => {
    const t = 1_000_000_000_000;
    const old = createAuthority('old', timing.lifetimeMs, t);
    const plan = planAuthority({ current: old }, timing, t + 400 * S, () =>
      createAuthority('new', timing.lifetimeMs, t + 400 * S),
    );
    assert.deepEqual(plan.steps, ['recreated']);
    assert.notEqual(plan.state.current, old);
  });

  it('round-trips through a Secret', () => {
    const t = Date.now();
    const state: AuthorityState = {
      current: createAuthority('a', timing.lifetimeMs, t),
      next: createAuthority('b', timing.lifetimeMs, t),
      nextPublishedAt: t,
      previous: createAuthority('c', timing.lifetimeMs, t).cert,
      promotedAt: t - 5 * S,
    };
    const leaf = issueLeaf(
      state.current!,
      { commonName: 'l', dnsNames: ['l.example'], lifetimeMs: 60 * S },
      t,
    );
    const { data, annotations } = toSecret({ authority: state, leaf });
    assert.equal(splitPem(data['ca.crt'] ?? '').length, 3);
    const back = fromSecret(data, annotations);
    assert.deepEqual(back.leaf, leaf);
    assert.equal(back.authority.previous, state.previous);
    assert.equal(back.authority.nextPublishedAt, t);
    assert.equal(back.authority.promotedAt, t - 5 * S);
  });
});

describe('leafProblem', () => {
  const t = Date.now();
  const ca = createAuthority('ca', 3600 * S, t);
  const want = { names: ['a.example', '127.0.0.1'], lifetimeMs: 90 * S };
  const leaf = issueLeaf(
    ca,
    { commonName: 'l', dnsNames: ['a.example'], ipAddresses: ['127.0.0.1'], lifetimeMs: 90 * S },
    t,
  );

  it('accepts a fresh leaf for the same names', () =>
    assert.equal(leafProblem(leaf, ca, want, t + 10 * S), undefined));
  it('renews with a third of its life left', () =>
    assert.equal(leafProblem(leaf, ca, want, t + 61 * S), 'expiring'));
  it('re-issues when the names change', () =>
    assert.equal(leafProblem(leaf, ca, { ...want, names: ['b.example'] }, t), 'names changed'));
  it('re-issues after a CA promotion', () =>
    assert.equal(
      leafProblem(leaf, createAuthority('new', 3600 * S, t), want, t),
      'not signed by the current CA',
    ));
  it('issues a missing or unreadable leaf', () => {
    assert.equal(leafProblem(undefined, ca, want, t), 'missing');
    assert.equal(leafProblem({ cert: 'junk', key: 'junk' }, ca, want, t), 'not signed by the current CA');
  });
});
