// The content-block bookkeeping of an Anthropic stream being written: one block open at a time,
// indexes in order, each block started, filled and stopped exactly once.
//
// Text streams live. Tool calls do not: OpenAI-wire upstreams may interleave the argument fragments of
// parallel calls (index 0, 1, 0, 1…), while Anthropic blocks are sequential — a fragment for a call
// whose block is already closed could not be placed anywhere. So each call is buffered by its index and
// written whole, as one tool_use block per call in index order, when the choice finishes.
import { num, record, str, type JsonObject } from './json.ts';
import { eventFrame } from './sse-frames.ts';

interface PendingCall {
  id: string | undefined;
  name: string | undefined;
  args: string;
}

export class AnthropicBlocks {
  #next = 0;
  #textOpen = false;
  readonly #pending = new Map<number, PendingCall>();

  #startBlock(block: JsonObject): string {
    return eventFrame('content_block_start', {
      type: 'content_block_start',
      index: this.#next,
      content_block: block,
    });
  }

  #delta(delta: JsonObject): string {
    return eventFrame('content_block_delta', { type: 'content_block_delta', index: this.#next, delta });
  }

  #stop(): string {
    return eventFrame('content_block_stop', { type: 'content_block_stop', index: this.#next++ });
  }

  /** A block was opened, or a tool call is on its way: the answer has begun. */
  get started(): boolean {
    return this.#textOpen || this.#next > 0 || this.#pending.size > 0;
  }

  closeOpen(): string[] {
    if (!this.#textOpen) return [];
    this.#textOpen = false;
    return [this.#stop()];
  }

  text(text: string): string[] {
    const frames = this.#textOpen ? [] : [this.#startBlock({ type: 'text', text: '' })];
    this.#textOpen = true;
    return [...frames, this.#delta({ type: 'text_delta', text })];
  }

  /** A tool_calls delta entry: kept until flush(). The first id and name given for an index win. */
  toolCall(call: JsonObject): void {
    const index = num(call.index) ?? 0;
    const fn = record(call.function);
    const pending = this.#pending.get(index) ?? { id: undefined, name: undefined, args: '' };
    pending.id ??= str(call.id);
    pending.name ??= str(fn.name);
    pending.args += str(fn.arguments) ?? '';
    this.#pending.set(index, pending);
  }

  /** Closes the open text block and writes every buffered tool call, whole, in index order. */
  flush(): string[] {
    const frames = this.closeOpen();
    const calls = [...this.#pending.entries()].sort(([a], [b]) => a - b);
    this.#pending.clear();
    for (const [index, call] of calls) {
      frames.push(
        this.#startBlock({
          type: 'tool_use',
          id: call.id ?? `toolu_${index}`,
          name: call.name ?? '',
          input: {},
        }),
      );
      if (call.args !== '') frames.push(this.#delta({ type: 'input_json_delta', partial_json: call.args }));
      frames.push(this.#stop());
    }
    return frames;
  }
}
