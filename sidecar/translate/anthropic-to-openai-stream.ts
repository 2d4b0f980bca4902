// Anthropic Messages SSE → OpenAI chat.completion.chunk SSE.
//   message_start        → role chunk (id and model taken from the message unless overridden)
//   text_delta           → content delta
//   tool_use block       → tool_calls delta with index, id, name; input_json_delta → argument fragments
//   message_delta        → finish chunk (stop_reason mapped) and usage (cumulative, merged)
//   message_stop         → usage chunk (when asked) and [DONE]
//   error                → OpenAI in-band error frame;  ping, thinking and unknown events → nothing
// The forced JSON-mode answer tool streams as plain content (json-answer-tool.ts). With `jsonMode`, text
// is held until it is known whether it is a preamble to that answer — then dropped, as
// openAiResponseFromAnthropic drops it, so the content stays valid JSON — or not (a caller tool was
// called instead, or the message ended): then it is sent.
import { errorFromAnthropic } from './error-classify.ts';
import { finishFromAnthropic } from './finish-reasons.ts';
import { JSON_ANSWER_TOOL } from './json-answer-tool.ts';
import { isRecord, num, record, str, type JsonObject } from './json.ts';
import { ToOpenAiStream } from './to-openai-stream.ts';
import { usageFromAnthropic } from './usage.ts';

export interface AnthropicToOpenAiOptions {
  created: number;
  /** chat.completion id; defaults to the Anthropic message id. */
  id?: string | undefined;
  /** Model to report; defaults to the one Anthropic reports. */
  model?: string | undefined;
  /** The caller set stream_options.include_usage: send a usage chunk before [DONE]. */
  includeUsage?: boolean | undefined;
  /** The request asked for JSON (response_format), so it was sent with the forced answer tool. */
  jsonMode?: boolean | undefined;
}

/** Text of a JSON-mode answer: held while it may be a preamble, dropped once the answer tool came. */
type Preamble = { kind: 'live' } | { kind: 'held'; texts: string[] } | { kind: 'dropped' };

type Block = { kind: 'text' } | { kind: 'json' } | { kind: 'tool'; toolIndex: number } | { kind: 'other' };

export class AnthropicToOpenAiStream extends ToOpenAiStream {
  readonly #options: AnthropicToOpenAiOptions;
  readonly #blocks = new Map<number, Block>();
  #tools = 0;
  #started = false;
  #rawUsage: JsonObject = {};
  #preamble: Preamble;

  constructor(options: AnthropicToOpenAiOptions) {
    super(
      { id: options.id ?? '', created: options.created, model: options.model ?? '' },
      options.includeUsage === true,
    );
    this.#options = options;
    this.#preamble = options.jsonMode === true ? { kind: 'held', texts: [] } : { kind: 'live' };
  }

  protected onEvent(name: string | undefined, data: JsonObject): string[] {
    // An event named error is one whatever its data says: Anthropic's SDKs raise it as an error.
    switch (name === 'error' ? name : (str(data.type) ?? name)) {
      case 'message_start':
        return this.#messageStart(record(data.message));
      // Content after the finish chunk would be content after finish_reason, which OpenAI never sends.
      case 'content_block_start':
        return this.state.finishReason
          ? []
          : this.#blockStart(num(data.index) ?? 0, record(data.content_block));
      case 'content_block_delta':
        return this.state.finishReason ? [] : this.#blockDelta(num(data.index) ?? 0, record(data.delta));
      case 'message_delta':
        return this.#messageDelta(record(data.delta), data.usage);
      case 'message_stop':
        this.state.completed = true;
        return [...this.#role(), ...this.#releaseText(), ...this.close()];
      case 'error':
        return this.errorFrames(errorFromAnthropic(0, data));
      default:
        return []; // ping, content_block_stop, and event types added after this was written
    }
  }

  #role(): string[] {
    if (this.#started) return [];
    this.#started = true;
    return [this.writer.role(0)];
  }

  #messageStart(message: JsonObject): string[] {
    if (!this.#started) {
      // Chunks already written carry the old id; a late or repeated message_start must not change it.
      this.writer.meta.id = this.#options.id ?? str(message.id) ?? '';
      this.writer.meta.model = this.#options.model ?? str(message.model) ?? '';
    }
    this.#mergeUsage(message.usage);
    return this.#role();
  }

  #blockStart(index: number, block: JsonObject): string[] {
    if (block.type === 'text') {
      this.#blocks.set(index, { kind: 'text' });
      return this.#text(str(block.text) ?? '');
    }
    if (block.type !== 'tool_use') {
      this.#blocks.set(index, { kind: 'other' }); // thinking, server tools
      return [];
    }
    const name = str(block.name) ?? '';
    if (name === JSON_ANSWER_TOOL) {
      this.#blocks.set(index, { kind: 'json' });
      this.#preamble = { kind: 'dropped' };
      return [];
    }
    const toolIndex = this.#tools++;
    this.#blocks.set(index, { kind: 'tool', toolIndex });
    const call = { index: toolIndex, id: str(block.id) ?? '', name, arguments: '' };
    return [...this.#role(), ...this.#releaseText(), this.writer.toolCall(0, call)];
  }

  #blockDelta(index: number, delta: JsonObject): string[] {
    const block = this.#blocks.get(index) ?? { kind: 'text' };
    const text = delta.type === 'text_delta' ? str(delta.text) : undefined;
    if (text !== undefined && text !== '' && block.kind === 'text') return this.#text(text);
    const json = delta.type === 'input_json_delta' ? str(delta.partial_json) : undefined;
    if (json === undefined || json === '') return [];
    if (block.kind === 'json') return [...this.#role(), this.writer.content(0, json)];
    if (block.kind !== 'tool') return [];
    return [this.writer.toolCall(0, { index: block.toolIndex, arguments: json })];
  }

  #messageDelta(delta: JsonObject, usage: unknown): string[] {
    this.#mergeUsage(usage);
    if (typeof delta.stop_reason !== 'string' || this.state.finishReason !== undefined) return [];
    let reason = finishFromAnthropic(delta.stop_reason);
    if (reason === 'tool_calls' && this.#tools === 0) reason = 'stop'; // only the JSON answer tool
    this.state.finishReason = reason;
    return [...this.#role(), ...this.#releaseText(), this.writer.finish(0, reason)];
  }

  #text(text: string): string[] {
    if (text === '' || this.#preamble.kind === 'dropped') return [];
    if (this.#preamble.kind === 'held') {
      this.#preamble.texts.push(text);
      return [];
    }
    return [...this.#role(), this.writer.content(0, text)];
  }

  /** Held text turned out not to precede the answer: sent, and text streams live from here on. */
  #releaseText(): string[] {
    if (this.#preamble.kind !== 'held') return [];
    const text = this.#preamble.texts.join('');
    this.#preamble = { kind: 'live' };
    return this.#text(text);
  }

  /** message_delta usage is cumulative and may omit fields: the latest value of each field wins. */
  #mergeUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    for (const [key, value] of Object.entries(usage)) {
      if (typeof value === 'number' || isRecord(value)) this.#rawUsage = { ...this.#rawUsage, [key]: value };
    }
    this.state.usage = usageFromAnthropic(this.#rawUsage) ?? this.state.usage;
  }
}
