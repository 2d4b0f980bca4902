import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatFeatures } from '../routing/features.ts';
import { anthropicRoutingView } from './anthropic-routing-view.ts';
import { ANTHROPIC_MESSAGES } from './inbound.ts';

describe('the routing view of an Anthropic request no other dialect can express', () => {
  const body = {
    model: 'claude',
    max_tokens: 50,
    stream: true,
    system: [{ type: 'text', text: 'S'.repeat(400) }],
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'search_result',
            source: 'https://x',
            title: 'T',
            content: [{ type: 'text', text: 'R'.repeat(400) }],
          },
          { type: 'image', source: { type: 'file', file_id: 'file_1' } },
        ],
      },
    ],
    tools: [{ type: 'web_search_20250305', name: 'web_search', description: 'D'.repeat(400) }],
    output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
  };

  it('keeps what routing matches on: text of every block, tools, images, JSON mode, streaming', () => {
    const features = chatFeatures(anthropicRoutingView(body), {});
    assert.deepEqual(new Set(features.requires), new Set(['chat', 'streaming', 'tools', 'json', 'vision']));
    assert.ok(
      features.promptTokens >= 300,
      `estimate ${features.promptTokens} counts system, blocks and tools`,
    );
    assert.equal(features.stream, true);
  });

  it('is what the edge routes on when translation refuses, and the refusal is kept for other dialects', () => {
    const parsed = ANTHROPIC_MESSAGES.parse(body);
    assert.match(parsed.untranslatable?.message ?? '', /not supported/);
    assert.equal(parsed.callerBody, body);
    assert.equal(parsed.canonical.model, 'claude');
  });

  it('a request OpenAI can express is translated as before, with nothing marked', () => {
    const plain = { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    const parsed = ANTHROPIC_MESSAGES.parse(plain);
    assert.equal(parsed.untranslatable, undefined);
    assert.deepEqual(parsed.canonical.messages, [{ role: 'user', content: 'hi' }]);
  });

  it('malformed requests are still refused at the edge', () => {
    assert.throws(() => ANTHROPIC_MESSAGES.parse({ model: 'c', max_tokens: 5, messages: 'x' }), /messages/);
  });
});
