// Properties of the stream translators under hostile upstreams: events out of order, repeated, cut
// mid-JSON, random JSON, random event names, random byte splits. Whatever arrives: no throw, every
// frame written is one valid SSE event of the target dialect, the stream obeys that dialect's grammar,
// and it always ends with a terminal frame ([DONE] / message_stop, or an in-band error).
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { GeminiToOpenAiStream } from './gemini-to-openai-stream.ts';
import { OpenAiToAnthropicStream } from './openai-to-anthropic-stream.ts';
import { answer, pieces, type Answer } from './testing/arbitraries.ts';
import { assembleAnthropic } from './testing/assemble-anthropic.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { parseFrames, runThroughPipe, sseText, type InputEvent, type ParsedFrame } from './testing/frames.ts';
import { anthropicEvents, geminiEvents, openAiEvents, type Split } from './testing/streams.ts';
import type { StreamTranslator } from './types.ts';

interface Case {
  name: string;
  make: () => StreamTranslator;
  upstream: (a: Answer, split: Split) => InputEvent[];
  check: (frames: ParsedFrame[]) => void;
}

const lastIsTerminal = (frames: ParsedFrame[], done: (f: ParsedFrame) => boolean) => {
  const last = frames.at(-1);
  assert.ok(last !== undefined && (done(last) || last.event === 'error'), 'ends with a terminal frame');
};

const CASES: Case[] = [
  {
    name: 'AnthropicToOpenAiStream',
    make: () => new AnthropicToOpenAiStream({ created: 1, includeUsage: true }),
    upstream: anthropicEvents,
    check: (frames) => {
      assembleOpenAi(frames);
      lastIsTerminal(frames, (f) => f.data === '[DONE]');
    },
  },
  {
    name: 'GeminiToOpenAiStream',
    make: () => new GeminiToOpenAiStream({ id: 'c', created: 1, model: 'g', includeUsage: true }),
    upstream: geminiEvents,
    check: (frames) => {
      assembleOpenAi(frames);
      lastIsTerminal(frames, (f) => f.data === '[DONE]');
    },
  },
  {
    name: 'OpenAiToAnthropicStream',
    make: () => new OpenAiToAnthropicStream({ requestedModel: 'c' }),
    upstream: openAiEvents,
    check: (frames) => {
      assembleAnthropic(frames);
      lastIsTerminal(frames, (f) => f.event === 'message_stop');
    },
  },
];

const upstreamOf = (c: Case) =>
  answer.chain((a) =>
    fc
      .tuple(pieces(a.text), fc.tuple(...a.calls.map((call) => pieces(JSON.stringify(call.args)))))
      .map(([text, args]) => c.upstream(a, { text: a.text === '' ? [] : text, args })),
  );

const rawData = (e: InputEvent): string => (typeof e.data === 'string' ? e.data : JSON.stringify(e.data));

/** Valid events, then mangled: reordered, repeated, cut mid-JSON, renamed, mixed with random JSON. */
const hostile = (c: Case) =>
  upstreamOf(c).chain((events) => {
    const valid = fc.constantFrom(...events);
    const event = fc.oneof(
      valid,
      valid.chain((e) =>
        fc.nat(rawData(e).length).map((n): InputEvent => ({ ...e, data: rawData(e).slice(0, n) })),
      ),
      fc.record({
        event: fc.option(fc.constantFrom('error', 'message_stop', 'x'), { nil: undefined }),
        data: fc.jsonValue(),
      }),
      fc.constant<InputEvent>({ data: '[DONE]' }),
    );
    return fc.oneof(
      fc.nat(events.length).map((n) => events.slice(0, n)),
      fc.array(event, { maxLength: 25 }),
      fc.shuffledSubarray(events),
    );
  });

function pushAll(translator: StreamTranslator, events: InputEvent[]): string[] {
  const frames = events.flatMap((e) => translator.push({ event: e.event, data: rawData(e) }));
  return [...frames, ...translator.end()];
}

describe('stream translators under hostile upstreams', () => {
  for (const c of CASES) {
    it(`${c.name}: never throws, writes valid frames, obeys the grammar, always terminates`, () => {
      fc.assert(
        fc.property(hostile(c), (events) => {
          const translator = c.make();
          const frames = parseFrames(pushAll(translator, events));
          c.check(frames);
          assert.deepEqual(
            [translator.end(), translator.fail('late'), translator.push({ data: '{}' })],
            [[], [], []],
          );
          assert.ok(Number.isInteger(translator.malformed) && translator.malformed >= 0);
        }),
        { numRuns: 400 },
      );
    });

    it(`${c.name}: a well-formed upstream completes, whatever the byte splits`, () => {
      fc.assert(
        fc.property(
          upstreamOf(c).chain((events) => {
            const length = new TextEncoder().encode(sseText(events)).length;
            return fc.tuple(fc.constant(events), fc.uniqueArray(fc.nat(length), { maxLength: 12 }));
          }),
          ([events, cuts]) => {
            const whole = c.make();
            const expected = runThroughPipe(whole, events);
            const split = c.make();
            assert.deepEqual(runThroughPipe(split, events, cuts), expected);
            assert.equal(whole.completed, true);
            assert.equal(whole.malformed, 0);
            c.check(parseFrames(expected));
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});
