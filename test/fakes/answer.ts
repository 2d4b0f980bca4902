import { randomBytes } from 'node:crypto';
import type { AnswerFields } from './types.ts';

/** What a dialect extracted from a request; everything the default answer depends on. */
export interface Exchange {
  endpoint: string;
  model: string;
  stream: boolean;
  /** Characters of all prompt text (system and messages), the basis of promptTokens. */
  promptChars: number;
  lastUserText: string;
  hasTools: boolean;
  /** OpenAI stream_options.include_usage. */
  includeUsage: boolean;
  body: Record<string, unknown>;
  /** Set when the default answer depends on nothing else, so its bytes can be reused. */
  cacheKey: string | undefined;
}

export interface ToolAnswer {
  id: string;
  name: string;
  args: Record<string, unknown>;
  argsJson: string;
  argPieces: string[];
}

export interface Usage {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
}

export interface Answer {
  /** Unique per answer in this process; dialects prefix it (chatcmpl-, msg_, resp_). */
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  content: string;
  pieces: string[];
  tool: ToolAnswer | undefined;
  usage: Usage;
  finishReason: string | undefined;
  refusal: boolean;
}

const DEFAULT_CHUNKS = 4;
// A per-process tag keeps ids from two test processes apart in shared logs.
const idTag = randomBytes(3).toString('hex');
let idCounter = 0;

/** The token estimate behind every default usage: ceil(chars / 4). */
export function estimateTokens(text: string | number): number {
  const chars = typeof text === 'number' ? text : text.length;
  return Math.ceil(chars / 4);
}

/** The text a default answer carries, so tests can predict it. */
export function defaultContent(model: string, lastUserText: string): string {
  return `echo:${model}:${lastUserText}`;
}

/** Splits text into at most n nearly equal pieces on code-point boundaries. */
export function splitText(text: string, n: number): string[] {
  if (text === '') return [];
  const points = Array.from(text);
  const count = Math.max(1, Math.min(Math.floor(n), points.length));
  const size = Math.ceil(points.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(''));
  return pieces;
}

export function nextId(): string {
  idCounter += 1;
  return `fake${idTag}${idCounter.toString(36)}`;
}

export function planAnswer(fields: AnswerFields, ex: Exchange): Answer {
  const model = fields.model ?? ex.model;
  const chunks = fields.chunks ?? DEFAULT_CHUNKS;
  const tool = fields.toolCall !== undefined && ex.hasTools ? planTool(fields.toolCall, chunks) : undefined;
  const content =
    fields.content ??
    (tool !== undefined || fields.refusal === true ? '' : defaultContent(model, ex.lastUserText));
  const completionChars = content.length + (tool?.argsJson.length ?? 0);
  return {
    id: nextId(),
    model,
    created: Math.floor(Date.now() / 1000),
    content,
    pieces: ex.stream ? splitText(content, chunks) : [],
    tool,
    usage: {
      prompt: fields.usage?.promptTokens ?? estimateTokens(ex.promptChars),
      completion: fields.usage?.completionTokens ?? estimateTokens(completionChars),
      cached: fields.usage?.cachedTokens ?? 0,
      reasoning: fields.usage?.reasoningTokens ?? 0,
    },
    finishReason: fields.finishReason,
    refusal: fields.refusal === true,
  };
}

function planTool(spec: NonNullable<AnswerFields['toolCall']>, chunks: number): ToolAnswer {
  const args = typeof spec.arguments === 'string' ? parseArgs(spec.arguments) : spec.arguments;
  const argsJson = typeof spec.arguments === 'string' ? spec.arguments : JSON.stringify(spec.arguments);
  return { id: nextId(), name: spec.name, args, argsJson, argPieces: splitText(argsJson, chunks) };
}

function parseArgs(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    // A deliberately broken arguments string is a valid test input; the object forms get {}.
    return {};
  }
}
