import type { Answer, Exchange, ToolAnswer } from '../answer.ts';
import { asArray, hasItems, isRecord, stringOr, textOf } from '../request-text.ts';
import { eventFrame } from '../sse.ts';
import type { Frame, Route } from './dialect.ts';

export const responses: Route = {
  endpoint: 'responses',
  scripted: true,
  parse: parseResponses,
  json: (answer, ex) => responseObject(answer, ex, 'final'),
  frames: responseFrames,
  streamError: responseError,
};

/** Responses streams carry an error as an `error` event with the code and message at the top level. */
function responseError(body: unknown): string {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const payload = { type: 'error', code: error.code ?? error.type, message: error.message, param: null };
  return `event: error\ndata: ${JSON.stringify(payload)}\n\n`;
}

function parseResponses(body: Record<string, unknown>): Exchange {
  const instructions = stringOr(body.instructions, '');
  let promptChars = instructions.length;
  let lastUserText = '';
  if (typeof body.input === 'string') {
    promptChars += body.input.length;
    lastUserText = body.input;
  }
  for (const item of asArray(body.input)) {
    if (!isRecord(item)) continue;
    const text = textOf(item.content);
    promptChars += text.length;
    if (item.role === 'user') lastUserText = text;
  }
  const model = stringOr(body.model, '');
  const stream = body.stream === true;
  return {
    endpoint: 'responses',
    model,
    stream,
    promptChars,
    lastUserText,
    hasTools: hasItems(body.tools),
    includeUsage: false,
    body,
    cacheKey: stream ? undefined : `responses\0${model}\0${promptChars}\0${lastUserText}\0${instructions}`,
  };
}

function messageItem(answer: Answer, done: boolean): Record<string, unknown> {
  const content = done ? [outputText(answer.content)] : [];
  const status = done ? 'completed' : 'in_progress';
  return { id: `msg_${answer.id}`, type: 'message', status, role: 'assistant', content };
}

function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function functionItem(tool: ToolAnswer, done: boolean): Record<string, unknown> {
  return {
    id: `fc_${tool.id}`,
    type: 'function_call',
    status: done ? 'completed' : 'in_progress',
    call_id: `call_${tool.id}`,
    name: tool.name,
    arguments: done ? tool.argsJson : '',
  };
}

function hasMessage(answer: Answer): boolean {
  return answer.content !== '' || answer.tool === undefined;
}

function finalOutput(answer: Answer): Record<string, unknown>[] {
  const output = hasMessage(answer) ? [messageItem(answer, true)] : [];
  if (answer.tool !== undefined) output.push(functionItem(answer.tool, true));
  return output;
}

function responseObject(answer: Answer, ex: Exchange, phase: 'start' | 'final'): Record<string, unknown> {
  const final = phase === 'final';
  const status = !final ? 'in_progress' : answer.refusal ? 'incomplete' : 'completed';
  const { prompt, completion, cached, reasoning } = answer.usage;
  return {
    id: `resp_${answer.id}`,
    object: 'response',
    created_at: answer.created,
    status,
    error: null,
    incomplete_details: final && answer.refusal ? { reason: 'content_filter' } : null,
    instructions: ex.body.instructions ?? null,
    max_output_tokens: ex.body.max_output_tokens ?? null,
    model: answer.model,
    output: final ? finalOutput(answer) : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: ex.body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: !final
      ? null
      : {
          input_tokens: prompt,
          input_tokens_details: { cached_tokens: cached },
          output_tokens: completion,
          output_tokens_details: { reasoning_tokens: reasoning },
          total_tokens: prompt + completion,
        },
    metadata: {},
  };
}

/** Builds frames with the running sequence_number every Responses event carries. */
class Sequencer {
  readonly frames: Frame[] = [];
  #next = 0;

  add(kind: Frame['kind'], type: string, fields: Record<string, unknown>): void {
    this.frames.push(eventFrame(kind, type, { type, sequence_number: this.#next, ...fields }));
    this.#next += 1;
  }
}

function responseFrames(answer: Answer, ex: Exchange): Frame[] {
  const seq = new Sequencer();
  seq.add('head', 'response.created', { response: responseObject(answer, ex, 'start') });
  seq.add('head', 'response.in_progress', { response: responseObject(answer, ex, 'start') });
  let outputIndex = 0;
  if (hasMessage(answer)) {
    addMessageEvents(seq, answer, outputIndex);
    outputIndex += 1;
  }
  if (answer.tool !== undefined) addToolEvents(seq, answer.tool, outputIndex);
  const terminal = answer.refusal ? 'response.incomplete' : 'response.completed';
  seq.add('end', terminal, { response: responseObject(answer, ex, 'final') });
  return seq.frames;
}

function addMessageEvents(seq: Sequencer, answer: Answer, outputIndex: number): void {
  const where = { item_id: `msg_${answer.id}`, output_index: outputIndex, content_index: 0 };
  seq.add('head', 'response.output_item.added', {
    output_index: outputIndex,
    item: messageItem(answer, false),
  });
  seq.add('head', 'response.content_part.added', { ...where, part: outputText('') });
  for (const delta of answer.pieces)
    seq.add('delta', 'response.output_text.delta', { ...where, delta, logprobs: [] });
  seq.add('meta', 'response.output_text.done', { ...where, text: answer.content, logprobs: [] });
  seq.add('meta', 'response.content_part.done', { ...where, part: outputText(answer.content) });
  seq.add('meta', 'response.output_item.done', {
    output_index: outputIndex,
    item: messageItem(answer, true),
  });
}

function addToolEvents(seq: Sequencer, tool: ToolAnswer, outputIndex: number): void {
  const where = { item_id: `fc_${tool.id}`, output_index: outputIndex };
  seq.add('meta', 'response.output_item.added', {
    output_index: outputIndex,
    item: functionItem(tool, false),
  });
  for (const delta of tool.argPieces)
    seq.add('delta', 'response.function_call_arguments.delta', { ...where, delta });
  seq.add('meta', 'response.function_call_arguments.done', {
    ...where,
    name: tool.name,
    arguments: tool.argsJson,
  });
  seq.add('meta', 'response.output_item.done', { output_index: outputIndex, item: functionItem(tool, true) });
}
