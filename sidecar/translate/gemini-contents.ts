// Neutral turns → Gemini `contents` + `systemInstruction`. Gemini has roles user/model only, and its
// function calls carry no ids: a tool result is matched to its call by function *name*, so the ids of
// the caller's tool calls are mapped to names here (and a result for an unknown id is refused).
import type { ImageSource, Part } from './content-parts.ts';
import { InvalidRequest } from './errors.ts';
import { isRecord, parseJson, type JsonObject } from './json.ts';
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
  return (ext !== undefined ? MIME_BY_EXTENSION[ext] : undefined) ?? 'image/jpeg';
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

function contentOf(turn: Turn, index: number, names: Map<string, string>): Content | undefined {
  switch (turn.role) {
    case 'system':
      return undefined;
    case 'user':
      return { role: 'user', parts: partsOf(turn.parts) };
    case 'assistant': {
      const calls = turn.toolCalls.map((call, i) => {
        names.set(call.id, call.name);
        const functionCall = { functionCall: { name: call.name, args: call.args } };
        return i === 0 ? { ...functionCall, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE } : functionCall;
      });
      return { role: 'model', parts: [...partsOf(turn.parts), ...calls] };
    }
    case 'tool': {
      const name = names.get(turn.toolCallId);
      if (name === undefined) {
        throw new InvalidRequest(`messages[${index}].tool_call_id`, 'matches no earlier assistant tool call');
      }
      return { role: 'user', parts: [{ functionResponse: { name, response: responseOf(turn.text) } }] };
    }
  }
}

export interface GeminiConversation {
  systemInstruction?: { parts: { text: string }[] };
  contents: Content[];
}

export function geminiConversation(turns: readonly Turn[]): GeminiConversation {
  const names = new Map<string, string>();
  const contents: Content[] = [];
  turns.forEach((turn, i) => {
    const next = contentOf(turn, i, names);
    if (next === undefined || next.parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === next.role) last.parts.push(...next.parts);
    else contents.push(next);
  });
  const system = systemText(turns);
  return { ...(system !== undefined && { systemInstruction: { parts: [{ text: system }] } }), contents };
}
