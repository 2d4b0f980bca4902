// Anthropic `messages` (from an Anthropic-dialect caller) → OpenAI Chat messages. A user turn's
// tool_result blocks become `tool` messages placed before the rest of that turn, which is where OpenAI
// expects them (right after the assistant's tool_calls). Thinking blocks are dropped: they are only
// meaningful to the Claude model that produced them.
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { asArray, isRecord, str, type JsonObject } from './json.ts';

type OpenAiPart = JsonObject;

/**
 * Where a refused parameter was routed. An Anthropic request is translated once, into the canonical
 * OpenAI form, for every provider that does not speak Anthropic Messages (OpenAI, Gemini, …).
 */
export const TRANSLATED_TARGET = 'a provider that does not speak Anthropic Messages';

function sourcePart(source: unknown, kind: 'image' | 'document', param: string): OpenAiPart {
  if (!isRecord(source)) throw new InvalidRequest(`${param}.source`, 'must be an object');
  const s = source;
  if (typeof s.type !== 'string') throw new InvalidRequest(`${param}.source.type`, 'must be a string');
  const dataUrl = `data:${str(s.media_type) ?? ''};base64,${str(s.data) ?? ''}`;
  if (kind === 'image' && s.type === 'base64') return { type: 'image_url', image_url: { url: dataUrl } };
  if (kind === 'image' && s.type === 'url')
    return { type: 'image_url', image_url: { url: str(s.url) ?? '' } };
  if (kind === 'document' && s.type === 'base64')
    return { type: 'file', file: { filename: 'document.pdf', file_data: dataUrl } };
  if (kind === 'document' && s.type === 'text') return { type: 'text', text: str(s.data) ?? '' };
  throw new UnsupportedParameter(
    `${param}.source`,
    TRANSLATED_TARGET,
    `a ${JSON.stringify(s.type)} ${kind} source cannot be forwarded`,
  );
}

/** A user-side block as an OpenAI content part; undefined for blocks that are deliberately dropped. */
function userPart(block: JsonObject, param: string): OpenAiPart | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: str(block.text) ?? '' };
    case 'image':
    case 'document':
      return sourcePart(block.source, block.type, param);
    case 'thinking':
    case 'redacted_thinking':
      return undefined;
    default:
      throw new UnsupportedParameter(
        `${param}.type`,
        TRANSLATED_TARGET,
        `content block ${JSON.stringify(block.type)} has no equivalent`,
      );
  }
}

function blocksOf(content: unknown, param: string): JsonObject[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content))
    throw new InvalidRequest(param, 'must be a string or an array of content blocks');
  return content.map((b: unknown, i) => {
    if (!isRecord(b)) throw new InvalidRequest(`${param}[${i}]`, 'content block must be an object');
    return b;
  });
}

/** A single text part collapses to a string, the form every OpenAI-compatible server accepts. */
function contentOf(parts: OpenAiPart[]): string | OpenAiPart[] {
  return parts.length === 1 && parts[0]?.type === 'text' ? (str(parts[0].text) ?? '') : parts;
}

function toolResult(block: JsonObject, param: string, images: OpenAiPart[]): JsonObject {
  const id = str(block.tool_use_id);
  if (id === undefined) throw new InvalidRequest(`${param}.tool_use_id`, 'must be a string');
  const texts: string[] = [];
  // OpenAI tool messages hold text only: images a tool returned move to the user message that follows.
  for (const [i, b] of blocksOf(block.content ?? '', `${param}.content`).entries()) {
    const part = userPart(b, `${param}.content[${i}]`);
    if (part?.type === 'text') texts.push(str(part.text) ?? '');
    else if (part !== undefined) images.push(part);
  }
  const text = texts.join('\n');
  return { role: 'tool', tool_call_id: id, content: block.is_error === true ? `Error: ${text}` : text };
}

function userMessages(content: unknown, param: string): JsonObject[] {
  const tools: JsonObject[] = [];
  const images: OpenAiPart[] = [];
  const parts: OpenAiPart[] = [];
  for (const [i, block] of blocksOf(content, param).entries()) {
    if (block.type === 'tool_result') tools.push(toolResult(block, `${param}[${i}]`, images));
    else {
      const part = userPart(block, `${param}[${i}]`);
      if (part !== undefined) parts.push(part);
    }
  }
  const rest = [...images, ...parts];
  return rest.length > 0 ? [...tools, { role: 'user', content: contentOf(rest) }] : tools;
}

function assistantMessage(content: unknown, param: string): JsonObject {
  const texts: OpenAiPart[] = [];
  const calls: JsonObject[] = [];
  for (const [i, block] of blocksOf(content, param).entries()) {
    if (block.type === 'tool_use') {
      const id = str(block.id);
      const name = str(block.name);
      if (id === undefined || name === undefined)
        throw new InvalidRequest(`${param}[${i}]`, 'tool_use needs id and name');
      const args = JSON.stringify(isRecord(block.input) ? block.input : {});
      calls.push({ id, type: 'function', function: { name, arguments: args } });
    } else {
      const part = userPart(block, `${param}[${i}]`);
      if (part?.type === 'text' && part.text !== '') texts.push(part);
    }
  }
  const text = texts.length === 0 ? (calls.length > 0 ? null : '') : contentOf(texts);
  return { role: 'assistant', content: text, ...(calls.length > 0 && { tool_calls: calls }) };
}

export function openAiMessagesFromAnthropic(messages: unknown): JsonObject[] {
  if (!Array.isArray(messages)) throw new InvalidRequest('messages', 'must be an array');
  return asArray(messages).flatMap((m, i) => {
    const param = `messages[${i}]`;
    if (!isRecord(m)) throw new InvalidRequest(param, 'message must be an object');
    if (m.role === 'user') return userMessages(m.content, `${param}.content`);
    if (m.role === 'assistant') return [assistantMessage(m.content, `${param}.content`)];
    throw new InvalidRequest(`${param}.role`, 'must be user or assistant');
  });
}

/** `system` as a string or text blocks → one system message. */
export function systemMessage(system: unknown): JsonObject[] {
  if (system === undefined || system === null) return [];
  const text = blocksOf(system, 'system')
    .map((b) => (b.type === 'text' ? (str(b.text) ?? '') : ''))
    .join('\n');
  return text === '' ? [] : [{ role: 'system', content: text }];
}
