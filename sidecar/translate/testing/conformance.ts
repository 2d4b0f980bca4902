// Test support: the conformance fixtures in test/fixtures/translate/<kind>/*.json and the translator
// each kind runs through. A fixture holds `input`, `options`, and either `expected` (the canonical
// output) or `expectedError` (the typed error a request translator must throw).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnthropicToOpenAiStream } from '../anthropic-to-openai-stream.ts';
import { anthropicRequestFromOpenAi } from '../anthropic-request.ts';
import { openAiRequestFromAnthropic } from '../anthropic-inbound-request.ts';
import { openAiResponseFromAnthropic } from '../anthropic-response.ts';
import { errorFromAnthropic, errorFromGemini, errorFromOpenAi } from '../error-classify.ts';
import { anthropicErrorJson, openAiErrorJson } from '../error-render.ts';
import { InvalidRequest, UnsupportedParameter } from '../errors.ts';
import { geminiRequestFromOpenAi } from '../gemini-request.ts';
import { openAiResponseFromGemini } from '../gemini-response.ts';
import { GeminiToOpenAiStream } from '../gemini-to-openai-stream.ts';
import { anthropicResponseFromOpenAi } from '../openai-response.ts';
import { OpenAiToAnthropicStream } from '../openai-to-anthropic-stream.ts';
import type { StreamTranslator } from '../types.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './frames.ts';

export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/translate/', import.meta.url));

export interface Fixture {
  kind: string;
  file: string;
  description: string;
  source: string;
  options?: unknown;
  input: unknown;
  expected?: unknown;
  expectedError?: unknown;
}

export type Outcome = { expected: unknown } | { expectedError: unknown };

// Fixtures are JSON written by hand: their options are trusted to fit the translator they name.
type Any = never;

function stream(translator: StreamTranslator, events: unknown): Outcome {
  const frames = parseFrames(runThroughPipe(translator, events as InputEvent[]));
  const { completed, finishReason, usage, malformed, error } = translator;
  return {
    expected: {
      frames,
      completed,
      finishReason: finishReason ?? null,
      usage: usage ?? null,
      malformed,
      error: error ?? null,
    },
  };
}

function request(translate: () => unknown): Outcome {
  try {
    return { expected: translate() };
  } catch (e) {
    if (!(e instanceof UnsupportedParameter || e instanceof InvalidRequest)) throw e;
    return { expectedError: { name: e.name, param: e.param, message: e.message } };
  }
}

const CLASSIFIERS = {
  openai: errorFromOpenAi,
  anthropic: errorFromAnthropic,
  gemini: errorFromGemini,
} as const;

function error(input: unknown): Outcome {
  const { dialect, status, body } = input as {
    dialect: keyof typeof CLASSIFIERS;
    status: number;
    body: unknown;
  };
  const neutral = CLASSIFIERS[dialect](status, body);
  return { expected: { neutral, openAi: openAiErrorJson(neutral), anthropic: anthropicErrorJson(neutral) } };
}

export const RUNNERS: Readonly<Record<string, (f: Fixture) => Outcome>> = {
  'openai-response-from-anthropic': (f) => ({
    expected: openAiResponseFromAnthropic(f.input, f.options as Any),
  }),
  'openai-response-from-gemini': (f) => ({ expected: openAiResponseFromGemini(f.input, f.options as Any) }),
  'anthropic-response-from-openai': (f) => ({
    expected: anthropicResponseFromOpenAi(f.input, f.options as Any),
  }),
  'anthropic-stream-to-openai': (f) => stream(new AnthropicToOpenAiStream(f.options as Any), f.input),
  'gemini-stream-to-openai': (f) => stream(new GeminiToOpenAiStream(f.options as Any), f.input),
  'openai-stream-to-anthropic': (f) => stream(new OpenAiToAnthropicStream(f.options as Any), f.input),
  'anthropic-request-from-openai': (f) =>
    request(() => anthropicRequestFromOpenAi(f.input, f.options as Any)),
  'gemini-request-from-openai': (f) => request(() => geminiRequestFromOpenAi(f.input, f.options as Any)),
  'openai-request-from-anthropic': (f) =>
    request(() => openAiRequestFromAnthropic(f.input, f.options as Any)),
  errors: (f) => error(f.input),
};

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((dir) =>
      readdirSync(join(FIXTURES, dir.name))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => {
          const json = JSON.parse(readFileSync(join(FIXTURES, dir.name, file), 'utf8')) as Omit<
            Fixture,
            'kind' | 'file'
          >;
          return { ...json, kind: dir.name, file: `${dir.name}/${file}` };
        }),
    );
}
