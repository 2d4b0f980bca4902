import type { Answer, Exchange } from '../answer.ts';
import { asArray, hasItems, isRecord, stringOr, textOf } from '../request-text.ts';
import { eventFrame } from '../sse.ts';
import type { Frame, Route } from './dialect.ts';

export const messages: Route = {
  endpoint: 'messages',
  scripted: true,
  parse: parseMessages,
  json: messageJson,
  frames: messageFrames,
  streamError: (body) => `event: error\ndata: ${JSON.stringify(body)}\n\n`,
};

function parseMessages(body: Record<string, unknown>): Exchange {
  let promptChars = textOf(body.system).length;
  let lastUserText = '';
  for (const message of asArray(body.messages)) {
    if (!isRecord(message)) continue;
    const text = textOf(message.content);
    promptChars += text.length;
    if (message.role === 'user') lastUserText = text;
  }
  const model = stringOr(body.model, '');
  const stream = body.stream === true;
  return {
    endpoint: 'messages',
    model,
    stream,
    promptChars,
    lastUserText,
    hasTools: hasItems(body.tools),
    includeUsage: false,
    body,
    cacheKey: stream ? undefined : `messages\0${model}\0${promptChars}\0${lastUserText}`,
  };
}

function stopReason(answer: Answer): string {
  if (answer.finishReason !== undefined) return answer.finishReason;
  if (answer.refusal) return 'refusal';
  return answer.tool !== undefined ? 'tool_use' : 'end_turn';
}

// A refusal or a bare tool call carries no text block; a plain answer always has one, even if empty.
function hasText(answer: Answer): boolean {
  return answer.content !== '' || (answer.tool === undefined && !answer.refusal);
}

// Anthropic's input_tokens excludes cache reads, unlike OpenAI's prompt_tokens and Gemini's promptTokenCount.
function usage(answer: Answer, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: answer.usage.prompt - answer.usage.cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: answer.usage.cached,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function toolBlock(answer: Answer, input: Record<string, unknown>): Record<string, unknown> | undefined {
  if (answer.tool === undefined) return undefined;
  return { type: 'tool_use', id: `toolu_${answer.tool.id}`, name: answer.tool.name, input };
}

function message(answer: Answer, content: unknown[], stop: string | null, outputTokens: number): unknown {
  return {
    id: `msg_${answer.id}`,
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: usage(answer, outputTokens),
  };
}

function messageJson(answer: Answer): unknown {
  const content: unknown[] = hasText(answer) ? [{ type: 'text', text: answer.content }] : [];
  const tool = toolBlock(answer, answer.tool?.args ?? {});
  if (tool !== undefined) content.push(tool);
  return message(answer, content, stopReason(answer), answer.usage.completion);
}

function messageFrames(answer: Answer): Frame[] {
  // message_start reports output_tokens 1 like the real API; message_delta carries the final count.
  const frames = [
    eventFrame('head', 'message_start', { type: 'message_start', message: message(answer, [], null, 1) }),
  ];
  let index = 0;
  if (hasText(answer)) {
    frames.push(blockStart('head', index, { type: 'text', text: '' }), ping());
    for (const text of answer.pieces) frames.push(blockDelta(index, { type: 'text_delta', text }));
    frames.push(blockStop(index));
    index += 1;
  } else {
    frames.push(ping());
  }
  const tool = toolBlock(answer, {});
  if (tool !== undefined) {
    frames.push(blockStart('meta', index, tool));
    for (const partial_json of answer.tool?.argPieces ?? []) {
      frames.push(blockDelta(index, { type: 'input_json_delta', partial_json }));
    }
    frames.push(blockStop(index));
  }
  frames.push(eventFrame('meta', 'message_delta', messageDelta(answer)));
  frames.push(eventFrame('end', 'message_stop', { type: 'message_stop' }));
  return frames;
}

function messageDelta(answer: Answer): Record<string, unknown> {
  const delta: Record<string, unknown> = { stop_reason: stopReason(answer), stop_sequence: null };
  if (answer.refusal) {
    delta.stop_details = {
      type: 'refusal',
      category: 'cyber',
      explanation: 'Declined by the fake content filter.',
    };
  }
  return { type: 'message_delta', delta, usage: { output_tokens: answer.usage.completion } };
}

function blockStart(kind: Frame['kind'], index: number, block: unknown): Frame {
  return eventFrame(kind, 'content_block_start', {
    type: 'content_block_start',
    index,
    content_block: block,
  });
}

function blockDelta(index: number, delta: unknown): Frame {
  return eventFrame('delta', 'content_block_delta', { type: 'content_block_delta', index, delta });
}

function blockStop(index: number): Frame {
  return eventFrame('meta', 'content_block_stop', { type: 'content_block_stop', index });
}

function ping(): Frame {
  return eventFrame('head', 'ping', { type: 'ping' });
}
