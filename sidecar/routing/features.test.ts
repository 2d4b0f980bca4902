// The prompt-token estimate counts every piece of text a chat request sends as input, since budgets
// reserve and context windows are checked on it: tool schemas and tool-call arguments can dwarf the
// messages. Images and other binary parts are not text and do not count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asChatBody, chatFeatures, operationFeatures } from './features.ts';

const estimate = (body: Record<string, unknown>) =>
  chatFeatures(asChatBody({ model: 'm', ...body }), {}).promptTokens;
const user = (text: string) => ({ role: 'user', content: text });

describe('prompt token estimate', () => {
  it('counts tool definitions, not only messages', () => {
    const plain = estimate({ messages: [user('x'.repeat(40))] });
    const tools = [
      {
        type: 'function',
        function: { name: 'lookup', description: 'd'.repeat(4000), parameters: { type: 'object' } },
      },
    ];
    assert.equal(plain, 10);
    assert.ok(estimate({ messages: [user('x'.repeat(40))], tools }) >= plain + 1000);
  });

  it('counts tool-call arguments, tool results and names in the conversation', () => {
    const args = JSON.stringify({ query: 'q'.repeat(2000) });
    const n = estimate({
      messages: [
        user('hi'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: args } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'r'.repeat(800) },
      ],
    });
    assert.ok(n >= (2 + 2000 + 800) / 4, `estimate ${n}`);
  });

  it('counts a response_format JSON schema', () => {
    const schema = { name: 'answer', schema: { type: 'object', description: 's'.repeat(2000) } };
    const n = estimate({
      messages: [user('hi')],
      response_format: { type: 'json_schema', json_schema: schema },
    });
    assert.ok(n >= 500, `estimate ${n}`);
  });

  it('does not count image data as text', () => {
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } };
    const f = chatFeatures(
      asChatBody({
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'abcd' }, image] }],
      }),
      {},
    );
    assert.equal(f.promptTokens, 1);
    assert.ok(f.requires.includes('vision'));
  });

  it('Responses API: counts tools and the text.format schema with the input', () => {
    const f = operationFeatures(
      {
        model: 'm',
        input: 'x'.repeat(40),
        tools: [{ type: 'function', name: 'f', description: 'd'.repeat(400) }],
        text: { format: { type: 'json_schema', schema: { description: 's'.repeat(400) } } },
      },
      {},
      'responses',
    );
    assert.ok(f.promptTokens >= 210, `estimate ${f.promptTokens}`);
  });
});
