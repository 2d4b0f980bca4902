import type { Answer, Exchange, Usage } from '../answer.ts';
import { asArray, hasItems, isRecord, stringOr, textOf } from '../request-text.ts';
import { dataFrame } from '../sse.ts';
import type { Frame, Route } from './dialect.ts';

export const chatCompletions: Route = {
  endpoint: 'chat.completions',
  scripted: true,
  parse: parseChat,
  json: chatJson,
  frames: chatFrames,
  // The error JSON as a chunk of its own, as the API sends an error mid-stream.
  streamError: (body) => `data: ${JSON.stringify(body)}\n\n`,
};

function parseChat(body: Record<string, unknown>): Exchange {
  let promptChars = 0;
  let lastUserText = '';
  for (const message of asArray(body.messages)) {
    if (!isRecord(message)) continue;
    const text = textOf(message.content);
    promptChars += text.length;
    if (message.role === 'user') lastUserText = text;
  }
  const model = stringOr(body.model, '');
  const stream = body.stream === true;
  const options = body.stream_options;
  return {
    endpoint: 'chat.completions',
    model,
    stream,
    promptChars,
    lastUserText,
    hasTools: hasItems(body.tools) || hasItems(body.functions),
    includeUsage: isRecord(options) && options.include_usage === true,
    body,
    cacheKey: stream ? undefined : `chat\0${model}\0${promptChars}\0${lastUserText}`,
  };
}

export function openaiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
    prompt_tokens_details: { cached_tokens: usage.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function finishReason(answer: Answer): string {
  if (answer.finishReason !== undefined) return answer.finishReason;
  if (answer.refusal) return 'content_filter';
  return answer.tool !== undefined ? 'tool_calls' : 'stop';
}

// With a tool call and no text the real API sends content null, not ''.
function messageContent(answer: Answer): string | null {
  return answer.content === '' && (answer.tool !== undefined || answer.refusal) ? null : answer.content;
}

function chatJson(answer: Answer): unknown {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: messageContent(answer),
    refusal: null,
    annotations: [],
  };
  if (answer.tool !== undefined) {
    message.tool_calls = [
      {
        id: `call_${answer.tool.id}`,
        type: 'function',
        function: { name: answer.tool.name, arguments: answer.tool.argsJson },
      },
    ];
  }
  return {
    id: `chatcmpl-${answer.id}`,
    object: 'chat.completion',
    created: answer.created,
    model: answer.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(answer) }],
    usage: openaiUsage(answer.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

function chatFrames(answer: Answer, ex: Exchange): Frame[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null): Record<string, unknown> => {
    const value: Record<string, unknown> = {
      id: `chatcmpl-${answer.id}`,
      object: 'chat.completion.chunk',
      created: answer.created,
      model: answer.model,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    // With include_usage every chunk carries usage: null until the final usage-only chunk.
    if (ex.includeUsage) value.usage = null;
    return value;
  };
  const frames: Frame[] = [
    dataFrame(
      'head',
      chunk({ role: 'assistant', content: messageContent(answer) === null ? null : '', refusal: null }, null),
    ),
  ];
  for (const piece of answer.pieces) frames.push(dataFrame('delta', chunk({ content: piece }, null)));
  if (answer.tool !== undefined) frames.push(...toolFrames(answer.tool, chunk));
  frames.push(dataFrame('meta', chunk({}, finishReason(answer))));
  if (ex.includeUsage) {
    const usageChunk = { ...chunk({}, null), choices: [], usage: openaiUsage(answer.usage) };
    frames.push(dataFrame('meta', usageChunk));
  }
  frames.push({ kind: 'end', data: 'data: [DONE]\n\n' });
  return frames;
}

type ChunkOf = (delta: Record<string, unknown>, finish: string | null) => Record<string, unknown>;

// The first tool delta names the call (id, type, name, empty arguments); later ones only extend arguments.
function toolFrames(tool: NonNullable<Answer['tool']>, chunk: ChunkOf): Frame[] {
  const start = {
    index: 0,
    id: `call_${tool.id}`,
    type: 'function',
    function: { name: tool.name, arguments: '' },
  };
  const frames = [dataFrame('meta', chunk({ tool_calls: [start] }, null))];
  for (const piece of tool.argPieces) {
    frames.push(
      dataFrame('delta', chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null)),
    );
  }
  return frames;
}
