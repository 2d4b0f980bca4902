// Neutral turns → Gemini `contents` + `systemInstruction`. Gemini has roles user/model only. A tool
// result is matched to its call by function *name* and position (the `id` field of functionCall and
// functionResponse is optional, and not every model reads it), so: the caller's call ids are mapped to
// names (a result for an unknown id is refused), the ids are sent on both sides as well, and the
// function responses of a user turn are put in the order of the calls they answer.
import { partsText, type ImageSource, type Part } from './content-parts.ts';
import { InvalidRequest } from './errors.ts';
import { isRecord, own, parseJson, type JsonObject } from './json.ts';
import { systemText, type Turn } from './openai-messages.ts';

/**
 * Gemini 3 refuses replayed function calls without the thought signature it issued; calls that came
 * from another model (or through the OpenAI dialect, which has nowhere to keep one) carry the value
 * Google documents for history it did not produce.
 */
export const FOREIGN_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** fileData needs a MIME type; an image_url carries none, so it is guessed from the extension. */
function guessMime(url: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  return own(MIME_BY_EXTENSION, ext) ?? 'image/jpeg';
}

function imagePart(source: ImageSource): JsonObject {
  return source.kind === 'url'
    ? { fileData: { mimeType: guessMime(source.url), fileUri: source.url } }
    : { inlineData: { mimeType: source.mediaType, data: source.data } };
}

function partsOf(parts: readonly Part[]): JsonObject[] {
  return parts.flatMap((p): JsonObject[] => {
    const out = partOf(p);
    return out === undefined ? [] : [out];
  });
}

function partOf(part: Part): JsonObject | undefined {
  switch (part.kind) {
    case 'text':
      return part.text === '' ? undefined : { text: part.text };
    case 'image':
      return imagePart(part.source);
    case 'file':
    case 'audio':
      return { inlineData: { mimeType: part.mediaType, data: part.data } };
  }
}

/** functionResponse.response must be an object: a JSON object result is passed as is, else wrapped. */
function responseOf(text: string): JsonObject {
  const parsed = parseJson(text);
  if (parsed.ok && isRecord(parsed.value)) return parsed.value;
  return { result: parsed.ok ? parsed.value : text };
}

interface Content {
  role: 'user' | 'model';
  parts: JsonObject[];
}

/** What the conversation so far says about each tool call id. */
interface CallInfo {
  name: string;
  /** Position among all calls of the conversation: tool results are put back in this order. */
  order: number;
}

/** A tool turn's parts: its functionResponse, then what the tool returned that is not text. */
function toolParts(turn: Extract<Turn, { role: 'tool' }>, index: number, calls: Map<string, CallInfo>) {
  const call = calls.get(turn.toolCallId);
  if (call === undefined) {
    throw new InvalidRequest(`messages[${index}].tool_call_id`, 'matches no earlier assistant tool call');
  }
  const response = { id: turn.toolCallId, name: call.name, response: responseOf(partsText(turn.parts)) };
  // Images a tool returned go in the same user turn, after the function responses: every Gemini model
  // reads them there (functionResponse.parts is Gemini 3 only, and takes no URLs).
  const media = partsOf(turn.parts.filter((p) => p.kind !== 'text'));
  return { part: { functionResponse: response }, order: call.order, media };
}

function modelContent(turn: Extract<Turn, { role: 'assistant' }>, calls: Map<string, CallInfo>): Content {
  const functionCalls = turn.toolCalls.map((call, i) => {
    calls.set(call.id, { name: call.name, order: calls.size });
    const functionCall = { functionCall: { id: call.id, name: call.name, args: call.args } };
    return i === 0 ? { ...functionCall, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE } : functionCall;
  });
  return { role: 'model', parts: [...partsOf(turn.parts), ...functionCalls] };
}

export interface GeminiConversation {
  systemInstruction?: { parts: { text: string }[] };
  contents: Content[];
}

/**
 * A user turn's parts with the function responses first, in the order of the calls they answer:
 * Gemini pairs results with calls by position and name, so results sent in another order than the
 * calls (two calls of one function answered out of order) would be given to the wrong call.
 */
class UserTurn {
  readonly #responses: { part: JsonObject; order: number }[] = [];
  readonly #rest: JsonObject[] = [];

  add(turn: Turn, index: number, calls: Map<string, CallInfo>): void {
    if (turn.role === 'tool') {
      const { part, order, media } = toolParts(turn, index, calls);
      this.#responses.push({ part, order });
      this.#rest.push(...media);
    } else if (turn.role === 'user') this.#rest.push(...partsOf(turn.parts));
  }

  parts(): JsonObject[] {
    const responses = this.#responses.toSorted((a, b) => a.order - b.order).map((r) => r.part);
    return [...responses, ...this.#rest];
  }
}

export function geminiConversation(turns: readonly Turn[]): GeminiConversation {
  const calls = new Map<string, CallInfo>();
  const contents: Content[] = [];
  let user: UserTurn | undefined;
  const flushUser = (): void => {
    const parts = user?.parts() ?? [];
    if (parts.length > 0) contents.push({ role: 'user', parts });
    user = undefined;
  };
  turns.forEach((turn, i) => {
    if (turn.role === 'system') return;
    if (turn.role === 'user' || turn.role === 'tool') {
      (user ??= new UserTurn()).add(turn, i, calls);
      return;
    }
    const next = modelContent(turn, calls);
    if (next.parts.length === 0) return;
    flushUser();
    const last = contents.at(-1);
    if (last?.role === 'model') last.parts.push(...next.parts);
    else contents.push(next);
  });
  flushUser();
  const system = systemText(turns);
  return { ...(system !== undefined && { systemInstruction: { parts: [{ text: system }] } }), contents };
}
