// The content-block bookkeeping of an Anthropic stream being written: one block open at a time,
// indexes in order, each block started, filled and stopped exactly once.
import { num, record, str, type JsonObject } from './json.ts';
import { eventFrame } from './sse-frames.ts';

type Open = { kind: 'text' } | { kind: 'tool'; call: number };

export class AnthropicBlocks {
  #next = 0;
  #open: Open | undefined;
  readonly #calls = new Set<number>();

  #startBlock(open: Open, block: JsonObject): string {
    this.#open = open;
    return eventFrame('content_block_start', {
      type: 'content_block_start',
      index: this.#next,
      content_block: block,
    });
  }

  #delta(delta: JsonObject): string {
    return eventFrame('content_block_delta', { type: 'content_block_delta', index: this.#next, delta });
  }

  closeOpen(): string[] {
    if (this.#open === undefined) return [];
    this.#open = undefined;
    return [eventFrame('content_block_stop', { type: 'content_block_stop', index: this.#next++ })];
  }

  text(text: string): string[] {
    const frames =
      this.#open?.kind === 'text'
        ? []
        : [...this.closeOpen(), this.#startBlock({ kind: 'text' }, { type: 'text', text: '' })];
    return [...frames, this.#delta({ type: 'text_delta', text })];
  }

  /** A tool_calls delta entry; undefined when it belongs to a call whose block is already closed. */
  toolCall(call: JsonObject): string[] | undefined {
    const index = num(call.index) ?? 0;
    const fn = record(call.function);
    const args = str(fn.arguments) ?? '';
    const frames: string[] = [];
    if (!(this.#open?.kind === 'tool' && this.#open.call === index)) {
      if (this.#calls.has(index)) return undefined;
      this.#calls.add(index);
      const block = {
        type: 'tool_use',
        id: str(call.id) ?? `toolu_${index}`,
        name: str(fn.name) ?? '',
        input: {},
      };
      frames.push(...this.closeOpen(), this.#startBlock({ kind: 'tool', call: index }, block));
    }
    if (args !== '') frames.push(this.#delta({ type: 'input_json_delta', partial_json: args }));
    return frames;
  }
}
