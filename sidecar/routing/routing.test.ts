import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SnapshotRoute } from '../../api/index.ts';
import { orderTargets, weightedOrder } from './strategy.ts';
import { parseTags } from './tags.ts';
import { asChatBody, chatFeatures } from './features.ts';

describe('x-turnout-tags', () => {
  it('parses k=v pairs, tolerating spaces and ignoring junk', () => {
    assert.deepEqual(parseTags(' sensitivity = phi, team=a,junk,=x'), { sensitivity: 'phi', team: 'a' });
    assert.deepEqual(parseTags(undefined), {});
  });
});

const route = (strategy: SnapshotRoute['strategy'], weights: number[]): SnapshotRoute => ({
  name: 'r',
  match: { models: [], headers: {}, requires: [], tags: {} },
  strategy,
  targets: weights.map((w, i) => ({ provider: `p${i}`, model: 'm', weight: w })),
  fallbacks: [{ provider: 'fb', model: 'm', weight: 1 }],
  retry: { attempts: 0, backoffBaseMs: 1, backoffMaxMs: 1, on: [] },
  timeouts: {},
  providerTags: {},
});

describe('strategies', () => {
  it('priority keeps the declared order with fallbacks last', () => {
    assert.deepEqual(
      orderTargets(route('priority', [1, 1, 1])).map((t) => t.provider),
      ['p0', 'p1', 'p2', 'fb'],
    );
  });
  it('weighted picks first in proportion to weight and still lists every target', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const firsts = { p0: 0, p1: 0, p2: 0 } as Record<string, number>;
    for (let i = 0; i < 10_000; i++) {
      const order = orderTargets(route('weighted', [80, 20, 0]), random);
      assert.equal(order.length, 4);
      assert.equal(order.at(-1)?.provider, 'fb');
      assert.equal(order.at(-2)?.provider, 'p2', 'weight 0 is a last resort, never first');
      firsts[order[0]!.provider]!++;
    }
    assert.ok(Math.abs(firsts.p0! / 10_000 - 0.8) < 0.02, `p0 share ${firsts.p0}`);
    assert.equal(firsts.p2, 0);
  });
  it('weightedOrder handles a single target', () => {
    assert.equal(weightedOrder([{ provider: 'a', model: 'm', weight: 0 }], Math.random).length, 1);
  });
});

describe('request features', () => {
  it('derives capabilities and a token estimate from the body', () => {
    const body = asChatBody({
      model: 'smart',
      stream: true,
      tools: [{ type: 'function', function: { name: 'f' } }],
      response_format: { type: 'json_object' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'x'.repeat(400) },
            { type: 'image_url', image_url: { url: 'data:' } },
          ],
        },
      ],
    });
    const f = chatFeatures(body, { 'x-turnout-tags': 'a=b' });
    assert.deepEqual(f.requires, ['chat', 'streaming', 'tools', 'json', 'vision']);
    assert.equal(f.promptTokens, 102, '400 characters of text and the tool definition {"name":"f"}');
    assert.deepEqual(f.tags, { a: 'b' });
  });
  it('refuses bodies routing cannot work with, naming the field', () => {
    assert.throws(() => asChatBody([]), /must be a JSON object/);
    assert.throws(
      () => asChatBody({ messages: [{}] }),
      (e: { param?: string }) => e.param === 'model',
    );
    assert.throws(() => asChatBody({ model: 'x', messages: [] }), /messages is required/);
    assert.throws(
      () => asChatBody({ model: 'x', messages: [{}], stream: 'yes' }),
      /stream must be true or false/,
    );
  });
});
