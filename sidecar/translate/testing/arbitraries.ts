// Test support: fast-check generators for well-formed OpenAI conversations and answers, and for
// hostile inputs (mutations of them, random JSON). Values pass through JSON once so they are exactly
// what a parsed body would hold (no -0, no undefined).
import fc from 'fast-check';
import { JSON_ANSWER_TOOL } from '../json-answer-tool.ts';

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 });
export const toolName = fc
  .stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/)
  .filter((n) => n !== JSON_ANSWER_TOOL);
export const args = fc
  .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map(viaJson);

interface Spec {
  system: string | undefined;
  turns: (
    | { kind: 'user'; parts: string[]; asString: boolean }
    | {
        kind: 'assistant';
        text: string | undefined;
        calls: { name: string; args: Record<string, unknown>; result: string }[];
      }
  )[];
}

const userTurn = fc.record({
  kind: fc.constant('user' as const),
  parts: fc.array(text, { minLength: 1, maxLength: 3 }),
  asString: fc.boolean(),
});
const assistantTurn = fc.record({
  kind: fc.constant('assistant' as const),
  text: fc.option(text, { nil: undefined }),
  calls: fc.array(fc.record({ name: toolName, args, result: text }), { maxLength: 3 }),
});

/** A conversation OpenAI would accept: every tool call answered by tool messages right after it. */
export const conversation = fc
  .record({
    system: fc.option(text, { nil: undefined }),
    turns: fc.array(fc.oneof(userTurn, assistantTurn), { minLength: 1, maxLength: 6 }),
  })
  .map((spec: Spec) => {
    const messages: Record<string, unknown>[] =
      spec.system === undefined ? [] : [{ role: 'system', content: spec.system }];
    let id = 0;
    for (const turn of spec.turns) {
      if (turn.kind === 'user') {
        const content = turn.asString
          ? turn.parts.join(' ')
          : turn.parts.map((t) => ({ type: 'text', text: t }));
        messages.push({ role: 'user', content });
        continue;
      }
      const calls = turn.calls.map((c) => ({ ...c, id: `call_${id++}` }));
      const toolCalls = calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.args) },
      }));
      messages.push({
        role: 'assistant',
        content: turn.text ?? null,
        ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
      });
      for (const c of calls) messages.push({ role: 'tool', tool_call_id: c.id, content: c.result });
    }
    return viaJson(messages);
  });

export const request = fc
  .record({
    messages: conversation,
    stream: fc.boolean(),
    temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
    max_tokens: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
    stop: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
    tools: fc.option(fc.uniqueArray(toolName, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ tools, ...rest }) =>
    viaJson({
      model: 'smart',
      ...rest,
      ...(tools && {
        tools: tools.map((name) => ({
          type: 'function',
          function: { name, parameters: { type: 'object', properties: {} } },
        })),
      }),
    }),
  );

/** Sets a random path of `value` to a random JSON value (or deletes it): structurally hostile input. */
export function mutate(value: unknown): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.array(fc.nat(), { maxLength: 5 }), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }))
    .map(([path, replacement]) => {
      const copy = viaJson(value);
      let node: unknown = copy;
      for (const [i, step] of path.entries()) {
        if (typeof node !== 'object' || node === null) break;
        const keys = Object.keys(node);
        const key = keys[step % Math.max(keys.length, 1)];
        if (key === undefined) break;
        const record = node as Record<string, unknown>;
        if (i === path.length - 1 || typeof record[key] !== 'object') {
          // Arrays lose an element rather than get a hole: parsed JSON never has holes.
          if (replacement !== undefined) record[key] = replacement;
          else if (Array.isArray(node)) node.splice(Number(key), 1);
          else delete record[key];
          break;
        }
        node = record[key];
      }
      return copy;
    });
}

export interface Answer {
  text: string;
  calls: { id: string; name: string; args: Record<string, unknown> }[];
  finish: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage: { prompt: number; completion: number; cached: number };
}

export const answer: fc.Arbitrary<Answer> = fc
  .record({
    text: fc.string({ unit: 'grapheme', maxLength: 40 }),
    calls: fc.uniqueArray(
      fc.record({ id: fc.stringMatching(/^call_[a-zA-Z0-9]{1,10}$/), name: toolName, args }),
      {
        maxLength: 3,
        selector: (c) => c.id,
      },
    ),
    finish: fc.constantFrom('stop', 'length', 'content_filter'),
    usage: fc.record({ prompt: fc.nat(100_000), completion: fc.nat(10_000), cached: fc.nat(100_000) }),
  })
  .map((a) => ({
    ...a,
    finish: a.calls.length > 0 ? ('tool_calls' as const) : a.finish,
    usage: { ...a.usage, cached: Math.min(a.usage.cached, a.usage.prompt) },
  }));

/** Cuts a string into pieces at random places (for text and argument deltas). */
export function pieces(s: string): fc.Arbitrary<string[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, s.length - 1) }), { maxLength: 4 })
    .map((cuts) => {
      const points = [0, ...cuts.filter((c) => c < s.length).sort((a, b) => a - b), s.length];
      return points.slice(1).map((end, i) => s.slice(points[i], end));
    });
}
