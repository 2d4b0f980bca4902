// Test support: check parsed Anthropic SSE frames follow the Messages streaming grammar
// (message_start, blocks started/filled/stopped in index order, message_delta, message_stop) and
// rebuild the message. Throws on any violation the Anthropic SDKs would reject.
import type { ParsedFrame } from './frames.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

export interface AssembledAnthropic {
  started: boolean;
  id: unknown;
  model: unknown;
  content: Json[];
  stopReason: unknown;
  usage: unknown;
  stopped: boolean;
  error: unknown;
}

interface State extends AssembledAnthropic {
  open: number | undefined;
  json: string;
}

/** The tool input the SDK would build; unparseable JSON is kept raw (the stream itself was valid). */
function parsedInput(json: string): unknown {
  try {
    return json === '' ? {} : (JSON.parse(json) as unknown);
  } catch {
    return { unparsed: json };
  }
}

function blockEvent(s: State, type: string, e: Json): void {
  if (type === 'content_block_start') {
    if (s.open !== undefined || e.index !== s.content.length)
      throw new Error(`bad block start ${String(e.index)}`);
    s.open = e.index;
    s.json = '';
    s.content.push({ ...obj(e.content_block) });
    return;
  }
  if (s.open === undefined || e.index !== s.open) throw new Error(`${type} for a block that is not open`);
  const block = obj(s.content[s.open]);
  const delta = obj(e.delta);
  if (type === 'content_block_stop') {
    if (block.type === 'tool_use') block.input = parsedInput(s.json);
    s.open = undefined;
  } else if (delta.type === 'text_delta' && block.type === 'text')
    block.text = `${String(block.text)}${String(delta.text)}`;
  else if (delta.type === 'input_json_delta' && block.type === 'tool_use')
    s.json += String(delta.partial_json);
  else throw new Error(`delta ${String(delta.type)} in a ${String(block.type)} block`);
}

function apply(s: State, frame: ParsedFrame): void {
  const e = obj(frame.data);
  const type = String(e.type);
  if (frame.event !== type) throw new Error(`event name ${String(frame.event)} differs from type ${type}`);
  if (s.stopped || s.error !== undefined) throw new Error('event after the end of the stream');
  if (type === 'error') s.error = e.error;
  else if (type === 'message_start') {
    if (s.started) throw new Error('second message_start');
    Object.assign(s, { started: true, id: obj(e.message).id, model: obj(e.message).model });
  } else if (!s.started) throw new Error(`${type} before message_start`);
  else if (type.startsWith('content_block_')) blockEvent(s, type, e);
  else if (type === 'message_delta') {
    if (s.open !== undefined) throw new Error('message_delta with a block open');
    Object.assign(s, { stopReason: obj(e.delta).stop_reason, usage: e.usage });
  } else if (type === 'message_stop') s.stopped = true;
  else if (type !== 'ping') throw new Error(`unknown event ${type}`);
}

export function assembleAnthropic(frames: readonly ParsedFrame[]): AssembledAnthropic {
  const s: State = {
    started: false,
    id: undefined,
    model: undefined,
    content: [],
    stopReason: undefined,
    usage: undefined,
    stopped: false,
    error: undefined,
    open: undefined,
    json: '',
  };
  for (const frame of frames) apply(s, frame);
  const { open: _open, json: _json, ...message } = s;
  return message;
}
