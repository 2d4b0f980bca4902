// A 429/503 with Retry-After cools its target down for every call of the sidecar, not only the call
// that was told: later calls skip it (a `cooling-down` skip), wait for it when nothing else is left and
// the deadline allows, or get 429 with Retry-After at once. Real `turnout dev` process, fake upstreams.
// Each test has providers of its own, so a cool-down one test starts cannot reach the next.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeProvider } from '../fakes/index.ts';
import { closeAll, resetAll, startFakeUpstreams } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { startDev, type DevTurnout } from '../helpers/turnout-process.ts';
import { fresh, postJson, provider } from './failover-harness.ts';

let primary: FakeProvider;
let backup: FakeProvider;
let t: DevTurnout;

const STEADY = 'circuitBreaker: { consecutiveFailures: 1000 }';
const GPT = '[{ name: gpt-a, capabilities: [chat, streaming] }]';
const BACKUP = '[{ name: backup-model, capabilities: [chat, streaming] }]';
const ONE_ROUND = 'retry: { attempts: 0 }';

/** A route `<name>-*` to provider <name> (the primary fake), failing over to `bk` (the backup fake). */
const withFallback = (name: string) =>
  `- { name: ${name}, match: { model: ["${name}-*"] }, targets: [{ provider: ${name}, model: gpt-a }], fallbacks: [{ provider: bk, model: backup-model }], ${ONE_ROUND}, timeouts: { total: 5s } }`;
/** A route `<name>-*` whose only target is provider <name>, with the deadline given. */
const alone = (route: string, name: string, total: string) =>
  `- { name: ${route}, match: { model: ["${route}-*"] }, targets: [{ provider: ${name}, model: gpt-a }], ${ONE_ROUND}, timeouts: { total: ${total} } }`;

const FAILOVER = ['fo1', 'fo2', 'date', 'cap', 'statuses'];

function manifests(withGone = true): string {
  const onPrimary = (name: string, extra = STEADY) => provider(name, 'openai', primary.url, GPT, extra);
  return manifest.file(
    manifest.secret({ k: 'sk-test-cooldown-0123456789' }),
    ...FAILOVER.map((name) => onPrimary(name)),
    onPrimary('solo'),
    onPrimary('both-a'),
    onPrimary('brk', 'circuitBreaker: { consecutiveFailures: 2, openFor: 60s }'),
    provider('bk', 'openai', backup.url, BACKUP, STEADY),
    provider('both-b', 'openai', backup.url, BACKUP, STEADY),
    ...(withGone ? [onPrimary('gone')] : []),
    manifest.routingPolicy(
      [
        ...FAILOVER.map(withFallback),
        alone('capsolo', 'cap', '5s'),
        alone('solo', 'solo', '5s'),
        alone('brk', 'brk', '1s'),
        `- { name: both, match: { model: ["both-*"] }, targets: [{ provider: both-a, model: gpt-a }], fallbacks: [{ provider: both-b, model: backup-model }], ${ONE_ROUND}, timeouts: { total: 3s } }`,
        ...(withGone ? [alone('gone', 'gone', '1s')] : []),
      ]
        .map((line) => `    ${line}`)
        .join('\n'),
    ),
  );
}

before(async () => {
  ({ primary, backup } = await startFakeUpstreams({ primary: 'openai', backup: 'openai' }));
  t = await startDev({ 'all.yaml': manifests() }, { args: ['--json'] });
});
after(async () => {
  await t?.close();
  await closeAll({ primary, backup });
});
beforeEach(() => resetAll({ primary, backup }));

const chat = (model: string) =>
  postJson(`${t.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });

interface Decision {
  status: number;
  errorCode?: string;
  attempts: { target: string; retryDelayMs?: number }[];
  skipped: { target: string; reason: string; detail: string }[];
}

async function decisionOf(model: string): Promise<Decision> {
  return JSON.parse(await t.waitForLine(new RegExp(`"requestedModel":"${model}"`))) as Decision;
}

/** When the skip says the target may be asked again, epoch ms. */
function coolingUntil(d: Decision, target: string): number {
  const skip = d.skipped.find((s) => s.target === target);
  assert.equal(skip?.reason, 'cooling-down', JSON.stringify(d.skipped));
  const iso = /cooling down until (\S+):/.exec(skip.detail)?.[1];
  return Date.parse(iso ?? '');
}

/** Sleeps until `ms` after the primary's first recorded request (plus a margin): its cool-down is over. */
async function sleepPastFirstRequest(ms: number): Promise<void> {
  const first = primary.requests[0]?.receivedAt ?? Date.now();
  await sleep(Math.max(0, first + ms + 50 - Date.now()));
}

describe('a target that answered 429 with Retry-After, seen by other calls', () => {
  it('is not asked by the next call: the fallback serves it, and the skip is in the decision', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '2' });
    const first = await chat(fresh('fo1'));
    assert.equal(first.headers.get('x-turnout-provider'), 'bk', 'the 429 failed over');
    const model = fresh('fo1');
    const second = await chat(model);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-turnout-provider'), 'bk');
    assert.equal(second.headers.get('x-turnout-attempts'), '1');
    assert.equal(primary.count, 1, 'the cooling primary was not asked again');
    const decision = await decisionOf(model);
    const until = coolingUntil(decision, 'fo1/gpt-a');
    assert.ok(
      until > Date.now() && until <= Date.now() + 2000,
      `cooling until ${new Date(until).toISOString()}`,
    );
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(
      metrics,
      /turnout_candidates_skipped_total\{[^}]*provider="fo1"[^}]*reason="cooling-down"\} 1/,
    );
  });

  it('is asked again once the cool-down is over', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '1' });
    assert.equal((await chat(fresh('fo2'))).headers.get('x-turnout-provider'), 'bk');
    assert.equal((await chat(fresh('fo2'))).headers.get('x-turnout-provider'), 'bk', 'still cooling');
    assert.equal(primary.count, 1);
    await sleepPastFirstRequest(1000);
    const later = await chat(fresh('fo2'));
    assert.equal(later.headers.get('x-turnout-provider'), 'fo2');
    assert.equal(primary.count, 2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const until = new Date(Date.now() + 3000); // whole seconds on the wire: 2–3 s from now
    primary.onNext({ kind: 'status', status: 429, retryAfter: until.toUTCString() });
    assert.equal((await chat(fresh('date'))).headers.get('x-turnout-provider'), 'bk');
    const model = fresh('date');
    assert.equal((await chat(model)).headers.get('x-turnout-provider'), 'bk');
    assert.equal(primary.count, 1);
    const cooling = coolingUntil(await decisionOf(model), 'date/gpt-a');
    assert.ok(Math.abs(cooling - Math.floor(until.getTime() / 1000) * 1000) < 200, 'until the date given');
  });

  it('caps a Retry-After of a day at 60 s', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '86400' });
    assert.equal((await chat(fresh('cap'))).headers.get('x-turnout-provider'), 'bk');
    const model = fresh('cap');
    assert.equal((await chat(model)).headers.get('x-turnout-provider'), 'bk');
    const cooling = coolingUntil(await decisionOf(model), 'cap/gpt-a');
    assert.ok(cooling <= Date.now() + 60_000, `cooling until ${new Date(cooling).toISOString()}`);
    const refused = await chat(fresh('capsolo'));
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 58 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    assert.equal(primary.count, 1);
  });

  it('a 503 with Retry-After cools the target down; a 429 without one does not', async () => {
    primary.onNext({ kind: 'status', status: 429 });
    assert.equal((await chat(fresh('statuses'))).headers.get('x-turnout-provider'), 'bk');
    const next = await chat(fresh('statuses'));
    assert.equal(next.headers.get('x-turnout-provider'), 'statuses', 'no Retry-After: asked again');
    primary.onNext({ kind: 'status', status: 503, retryAfter: '5' });
    assert.equal((await chat(fresh('statuses'))).headers.get('x-turnout-provider'), 'bk');
    assert.equal((await chat(fresh('statuses'))).headers.get('x-turnout-provider'), 'bk');
    assert.equal(primary.count, 3, 'not asked after the 503 with Retry-After');
  });
});

describe('when every target of a call is cooling down', () => {
  it('answers 429 at once with the cool-down left as Retry-After, naming the targets', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '10' });
    backup.onNext({ kind: 'status', status: 429, retryAfter: '8' });
    assert.equal((await chat(fresh('both'))).status, 429, 'the call that was told');
    const model = fresh('both');
    const res = await chat(model);
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter >= 7 && retryAfter <= 8, `Retry-After: ${retryAfter} (the sooner target's)`);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'rate_limited');
    assert.match(error.message, /cooling down/);
    assert.match(error.message, /both-a\/gpt-a until .*both-b\/backup-model until /);
    assert.deepEqual([primary.count, backup.count], [1, 1], 'no upstream was asked');
    const decision = await decisionOf(model);
    assert.deepEqual(
      [decision.status, decision.errorCode, decision.attempts.length],
      [429, 'rate_limited', 0],
    );
    assert.deepEqual(
      decision.skipped.map((s) => `${s.target} ${s.reason}`),
      ['both-a/gpt-a cooling-down', 'both-b/backup-model cooling-down'],
    );
  });

  it("answers in the caller's dialect: an Anthropic caller gets a rate_limit_error", async () => {
    // The cool-downs of the test above still run (10 s and 8 s).
    const body = { model: fresh('both'), max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    const res = await postJson(`${t.url}/v1/messages`, body);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const json = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.deepEqual([json.type, json.error.type], ['error', 'rate_limit_error']);
    assert.match(json.error.message, /cooling down/);
    assert.deepEqual([primary.count, backup.count], [0, 0]);
  });

  it('waits for the soonest when it ends within the deadline, then asks it', async () => {
    primary.script([
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'ok', content: 'after the cool-down' },
    ]);
    assert.equal((await chat(fresh('solo'))).status, 429, 'one round, one target: the caller is told');
    const model = fresh('solo');
    const res = await chat(model);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-provider'), 'solo');
    const [asked, again] = primary.requests.map((r) => r.receivedAt);
    assert.ok((again ?? 0) - (asked ?? 0) >= 990, `asked again after ${(again ?? 0) - (asked ?? 0)} ms`);
    const decision = await decisionOf(model);
    assert.ok((decision.attempts[0]?.retryDelayMs ?? 0) > 0, 'the wait is on the attempt record');
  });

  it('refusals do not count against the circuit breaker', async () => {
    // consecutiveFailures: 2 — the 429 itself is one; two refusals counted would open the breaker.
    primary.onNext({ kind: 'status', status: 429, retryAfter: '2' });
    assert.equal((await chat(fresh('brk'))).status, 429);
    for (let i = 0; i < 2; i++) assert.equal((await chat(fresh('brk'))).status, 429);
    assert.equal(primary.count, 1);
    await sleepPastFirstRequest(2000);
    const res = await chat(fresh('brk'));
    assert.equal(res.status, 200, 'the breaker stayed closed');
    assert.equal(res.headers.get('x-turnout-provider'), 'brk');
  });
});

describe('a reload', () => {
  it('drops the cool-down of a provider it removed', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '30' });
    assert.equal((await chat(fresh('gone'))).status, 429);
    assert.equal((await chat(fresh('gone'))).status, 429, 'cooling down');
    assert.equal(primary.count, 1);
    await t.reload('all.yaml', manifests(false));
    await t.reload('all.yaml', manifests(true));
    const res = await chat(fresh('gone'));
    assert.equal(res.status, 200, 'the provider came back without the cool-down of the one removed');
    assert.equal(primary.count, 2);
  });
});
