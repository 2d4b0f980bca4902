import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicRequestFromOpenAi } from './anthropic-request.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';

const user = (content: unknown) => ({ role: 'user', content });
const translate = (body: Record<string, unknown>, maxTokensDefault?: number) =>
  anthropicRequestFromOpenAi(
    { model: 'smart', messages: [user('hi')], ...body },
    { model: 'claude', maxTokensDefault },
  );

const call = (id: string, name: string, args: string) => ({
  id,
  type: 'function',
  function: { name, arguments: args },
});

describe('anthropicRequestFromOpenAi: messages', () => {
  it('moves system and developer messages, in order, into the top-level system', () => {
    const body = translate({
      messages: [
        { role: 'system', content: 'A' },
        user('hi'),
        { role: 'developer', content: [{ type: 'text', text: 'B' }] },
      ],
    });
    assert.equal(body.system, 'A\n\nB');
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  it('maps data: images to base64 sources and http(s) images to url sources', () => {
    const body = translate({
      messages: [
        user([
          { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGR' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
        ]),
      ],
    });
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'UklGR' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
        ],
      },
    ]);
  });

  it('turns tool_calls into tool_use blocks and tool messages into one merged tool_result user turn', () => {
    const body = translate({
      messages: [
        user('weather and time?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [call('c1', 'get_weather', '{"city":"Oslo"}'), call('c2', 'now', '')],
        },
        { role: 'tool', tool_call_id: 'c1', content: '-3C' },
        { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: '09:00' }] },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'weather and time?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'c1', name: 'get_weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'c2', name: 'now', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: '-3C' },
          { type: 'tool_result', tool_use_id: 'c2', content: '09:00' },
        ],
      },
    ]);
  });

  it('carries images (and PDFs) a tool returned inside its tool_result, in order', () => {
    const messages = [
      user('screenshot'),
      { role: 'assistant', tool_calls: [call('s', 'shot', '{}')] },
      {
        role: 'tool',
        tool_call_id: 's',
        content: [
          { type: 'text', text: 'here' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://x.test/b.png' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE' } },
        ],
      },
    ];
    assert.deepEqual((translate({ messages }).messages as unknown[])[2], {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 's',
          content: [
            { type: 'text', text: 'here' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'image', source: { type: 'url', url: 'https://x.test/b.png' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
          ],
        },
      ],
    });
    const audio = { type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } };
    const withAudio = [...messages.slice(0, 2), { role: 'tool', tool_call_id: 's', content: [audio] }];
    assert.throws(
      () => translate({ messages: withAudio }),
      (e: unknown) => e instanceof UnsupportedParameter && e.param === 'messages[2].content[0]',
    );
  });

  it('merges consecutive same-role turns so roles alternate, tool results first', () => {
    const body = translate({
      messages: [
        user('one'),
        user('two'),
        { role: 'assistant', content: 'a', tool_calls: [call('c1', 'f', '{}')] },
        { role: 'assistant', content: 'b' },
        { role: 'tool', tool_call_id: 'c1', content: 'r' },
        user('three'),
      ],
    });
    const messages = body.messages as { role: string; content: { type: string }[] }[];
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.deepEqual(
      messages[2]?.content.map((b) => b.type),
      ['tool_result', 'text'],
    );
  });

  it('drops empty text, which Anthropic rejects', () => {
    const body = translate({ messages: [user('q'), { role: 'assistant', content: '' }, user('again')] });
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'q' },
          { type: 'text', text: 'again' },
        ],
      },
    ]);
  });

  it('carries PDFs as documents and refuses audio', () => {
    const pdf = { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBER' } };
    const body = translate({ messages: [user([pdf])] });
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
        ],
      },
    ]);
    const audio = { type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } };
    assert.throws(() => translate({ messages: [user([audio])] }), UnsupportedParameter);
  });

  it('refuses malformed messages with the path of the field', () => {
    const cases: [unknown, string][] = [
      [undefined, 'messages'],
      [[{ role: 'wizard', content: 'x' }], 'messages[0].role'],
      [[{ role: 'tool', content: 'x' }], 'messages[0].tool_call_id'],
      [
        [{ role: 'assistant', tool_calls: [call('c', 'f', '[1,2]')] }],
        'messages[0].tool_calls[0].function.arguments',
      ],
      [
        [user([{ type: 'image_url', image_url: { url: 'ftp://x' } }])],
        'messages[0].content[0].image_url.url',
      ],
    ];
    for (const [messages, param] of cases) {
      assert.throws(
        () => translate({ messages }),
        (e: unknown) => e instanceof InvalidRequest && e.param === param,
        param,
      );
    }
  });
});
