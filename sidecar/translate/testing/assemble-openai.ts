// Test support: check a list of parsed OpenAI chunk frames is a well-formed chat.completion stream and
// rebuild the answer. Throws on anything an OpenAI SDK would choke on.
import type { ParsedFrame } from './frames.ts';

export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface AssembledChoice {
  content: string;
  toolCalls: AssembledToolCall[];
  finishReason: string | null;
}

export interface AssembledOpenAi {
  choices: AssembledChoice[];
  usage: unknown;
  done: boolean;
  error: unknown;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

function applyToolCall(choice: AssembledChoice, raw: unknown): void {
  const call = obj(raw);
  const fn = obj(call.function);
  const index = call.index as number;
  let target = choice.toolCalls[index];
  if (target === undefined) {
    if (index !== choice.toolCalls.length) throw new Error(`tool call index ${index} skips ahead`);
    if (typeof call.id !== 'string' || typeof fn.name !== 'string')
      throw new Error('first tool delta lacks id/name');
    if (call.type !== 'function') throw new Error('first tool delta lacks type: function');
    target = { id: call.id, name: fn.name, arguments: '' };
    choice.toolCalls.push(target);
  }
  target.arguments += typeof fn.arguments === 'string' ? fn.arguments : '';
}

function applyChoice(out: AssembledOpenAi, raw: unknown): void {
  const c = obj(raw);
  const index = c.index as number;
  const choice = (out.choices[index] ??= { content: '', toolCalls: [], finishReason: null });
  if (choice.finishReason !== null) throw new Error(`choice ${index} continues after its finish_reason`);
  const delta = obj(c.delta);
  if (typeof delta.content === 'string') choice.content += delta.content;
  for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) applyToolCall(choice, call);
  if (typeof c.finish_reason === 'string') choice.finishReason = c.finish_reason;
}

export function assembleOpenAi(frames: readonly ParsedFrame[]): AssembledOpenAi {
  const out: AssembledOpenAi = { choices: [], usage: undefined, done: false, error: undefined };
  for (const frame of frames) {
    if (out.done || out.error !== undefined) throw new Error('frame after the end of the stream');
    if (frame.data === '[DONE]') {
      out.done = true;
      continue;
    }
    const chunk = obj(frame.data);
    if (chunk.error !== undefined) {
      out.error = chunk.error;
      continue;
    }
    if (chunk.object !== 'chat.completion.chunk') throw new Error('not a chat.completion.chunk');
    if (chunk.usage !== undefined) out.usage = chunk.usage;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) applyChoice(out, choice);
  }
  return out;
}
