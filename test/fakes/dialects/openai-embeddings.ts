import type { Answer, Exchange } from '../answer.ts';
import { stringOr } from '../request-text.ts';
import type { Route } from './dialect.ts';

const DEFAULT_DIMENSIONS = 16;

export const embeddings: Route = {
  endpoint: 'embeddings',
  scripted: true,
  parse: parseEmbeddings,
  json: embeddingsJson,
};

function parseEmbeddings(body: Record<string, unknown>): Exchange {
  const inputs = inputTexts(body.input);
  const promptChars = inputs.reduce((sum, text) => sum + text.length, 0);
  return {
    endpoint: 'embeddings',
    model: stringOr(body.model, ''),
    stream: false,
    promptChars,
    lastUserText: inputs.at(-1) ?? '',
    hasTools: false,
    includeUsage: false,
    body,
    cacheKey: undefined,
  };
}

/** input is a string, strings, a token array or token arrays; tokens are read as their digits. */
function inputTexts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  if (input.every((item) => typeof item === 'number')) return [input.join(' ')];
  return input.map((item: unknown) => (Array.isArray(item) ? item.join(' ') : String(item)));
}

/** A deterministic vector, so equal inputs embed equally and tests can compare. */
export function fakeVector(text: string, dimensions: number): Float32Array {
  let seed = text.length;
  for (let i = 0; i < text.length; i += 1) seed = (seed * 31 + text.charCodeAt(i)) % 1_000_003;
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i += 1) vector[i] = Math.sin(seed + i);
  return vector;
}

function embeddingsJson(answer: Answer, ex: Exchange): unknown {
  const dims = typeof ex.body.dimensions === 'number' ? ex.body.dimensions : DEFAULT_DIMENSIONS;
  // The openai SDK asks for base64 unless the caller chose a format, then decodes little-endian float32.
  const base64 = ex.body.encoding_format === 'base64';
  const data = inputTexts(ex.body.input).map((text, index) => {
    const vector = fakeVector(text, dims);
    const embedding = base64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const tokens = answer.usage.prompt;
  return {
    object: 'list',
    data,
    model: answer.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
