// chat.completion.chunk frames, shaped as OpenAI sends them: the first delta of a choice carries the
// role, the first delta of a tool call carries its id, type and name (arguments follow as fragments),
// the finish chunk has an empty delta, and the usage chunk has no choices.
import type { Usage } from '../accounting/usage.ts';
import { dataFrame } from './sse-frames.ts';
import type { OpenAiFinishReason } from './types.ts';
import { openAiUsageJson } from './usage.ts';

export interface ChunkMeta {
  id: string;
  created: number;
  model: string;
}

export interface ToolCallDelta {
  index: number;
  /** Present on the first delta of a call only. */
  id?: string | undefined;
  name?: string | undefined;
  arguments: string;
}

export class OpenAiChunkWriter {
  readonly meta: ChunkMeta;
  /** A content, tool-call or finish chunk was written (a role or usage chunk alone is not an answer). */
  answerStarted = false;

  constructor(meta: ChunkMeta) {
    this.meta = meta;
  }

  #frame(choices: unknown[], extra: Record<string, unknown> = {}): string {
    const { id, created, model } = this.meta;
    return dataFrame({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
  }

  #delta(index: number, delta: Record<string, unknown>, finish: OpenAiFinishReason | null = null): string {
    return this.#frame([{ index, delta, logprobs: null, finish_reason: finish }]);
  }

  role(index: number): string {
    return this.#delta(index, { role: 'assistant', content: '' });
  }

  content(index: number, text: string): string {
    this.answerStarted = true;
    return this.#delta(index, { content: text });
  }

  toolCall(index: number, call: ToolCallDelta): string {
    this.answerStarted = true;
    const fn =
      call.name === undefined
        ? { arguments: call.arguments }
        : { name: call.name, arguments: call.arguments };
    const head = call.id === undefined ? {} : { id: call.id, type: 'function' };
    return this.#delta(index, { tool_calls: [{ index: call.index, ...head, function: fn }] });
  }

  finish(index: number, reason: OpenAiFinishReason): string {
    this.answerStarted = true;
    return this.#delta(index, {}, reason);
  }

  usage(usage: Usage): string {
    return this.#frame([], { usage: openAiUsageJson(usage) });
  }
}
