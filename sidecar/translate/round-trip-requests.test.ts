// Round-trip properties of requests: an OpenAI conversation sent to Anthropic and read back keeps its
// text, tool calls and tool results; sent to Gemini, every function response is named after its call.
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiRequestFromAnthropic } from './anthropic-inbound-request.ts';
import { anthropicRequestFromOpenAi } from './anthropic-request.ts';
import { geminiRequestFromOpenAi } from './gemini-request.ts';
import { conversation } from './testing/arbitraries.ts';

type Msg = Record<string, unknown>;
type Item = [string, ...unknown[]];

/** A conversation as the sequence of things that must survive: texts by role, calls, results. */
function items(messages: Msg[]): Item[] {
  const out: Item[] = [];
  const texts = (content: unknown): string[] =>
    typeof content === 'string'
      ? [content]
      : Array.isArray(content)
        ? content.map((p) => String((p as Msg).text))
        : [];
  for (const m of messages) {
    if (m.role === 'tool') {
      out.push(['result', m.tool_call_id, m.content]);
      continue;
    }
    for (const t of texts(m.content)) if (t !== '') out.push([String(m.role), t]);
    for (const c of (m.tool_calls as Msg[] | undefined) ?? []) {
      const fn = c.function as Msg;
      out.push(['call', c.id, fn.name, JSON.parse(String(fn.arguments))]);
    }
  }
  return out;
}

describe('request round trips', () => {
  it('OpenAI → Anthropic → OpenAI keeps text, tool calls and tool results', () => {
    fc.assert(
      fc.property(conversation, (messages) => {
        const anthropic = anthropicRequestFromOpenAi({ model: 'm', messages }, { model: 'claude' });
        const roles = (anthropic.messages as Msg[]).map((m) => m.role);
        roles.forEach((r, i) => assert.notEqual(r, roles[i - 1], 'roles alternate'));
        const back = openAiRequestFromAnthropic(anthropic).messages as Msg[];
        const system = messages.filter((m) => m.role === 'system');
        assert.deepEqual(items(back), items([...system, ...messages.filter((m) => m.role !== 'system')]));
      }),
      { numRuns: 300 },
    );
  });

  it('OpenAI → Gemini names every function response after its call', () => {
    fc.assert(
      fc.property(conversation, (messages) => {
        const { body } = geminiRequestFromOpenAi({ model: 'm', messages }, { model: 'g' });
        const names = new Map<string, string>();
        for (const m of messages)
          for (const c of (m.tool_calls as Msg[] | undefined) ?? [])
            names.set(String(c.id), String((c.function as Msg).name));
        const expected = messages
          .filter((m) => m.role === 'tool')
          .map((m) => names.get(String(m.tool_call_id)));
        const contents = body.contents as { role: string; parts: Msg[] }[];
        const responses = contents.flatMap((c) =>
          c.parts.flatMap((p) => (p.functionResponse ? [(p.functionResponse as Msg).name] : [])),
        );
        assert.deepEqual(responses, expected);
        contents.forEach((c, i) => assert.notEqual(c.role, contents[i - 1]?.role, 'roles alternate'));
      }),
      { numRuns: 300 },
    );
  });
});
