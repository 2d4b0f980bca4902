// Neutral turns → Anthropic `messages`. Anthropic has no tool role and wants user/assistant turns to
// alternate, so tool results become tool_result blocks in a user turn and consecutive same-role turns
// are merged (tool results first in a user turn, as Anthropic requires).
import { partsText, type Part } from './content-parts.ts';
import { UnsupportedParameter } from './errors.ts';
import type { JsonObject } from './json.ts';
import type { Turn } from './openai-messages.ts';

export interface AnthropicTurn {
  role: 'user' | 'assistant';
  content: JsonObject[];
}

function block(part: Part, param: string): JsonObject | undefined {
  switch (part.kind) {
    case 'text':
      // Anthropic rejects empty text blocks; an empty string carries nothing anyway.
      return part.text === '' ? undefined : { type: 'text', text: part.text };
    case 'image':
      return part.source.kind === 'url'
        ? { type: 'image', source: { type: 'url', url: part.source.url } }
        : {
            type: 'image',
            source: { type: 'base64', media_type: part.source.mediaType, data: part.source.data },
          };
    case 'file':
      if (part.mediaType !== 'application/pdf') {
        throw new UnsupportedParameter(param, 'Anthropic', 'only PDF files can be sent as documents');
      }
      return { type: 'document', source: { type: 'base64', media_type: part.mediaType, data: part.data } };
    case 'audio':
      throw new UnsupportedParameter(param, 'Anthropic', 'audio input is not accepted');
  }
}

function blocks(parts: readonly Part[], param: string): JsonObject[] {
  return parts.flatMap((p, i): JsonObject[] => {
    const b = block(p, `${param}[${i}]`);
    return b === undefined ? [] : [b];
  });
}

function turnOf(turn: Turn, index: number): AnthropicTurn | undefined {
  const param = `messages[${index}].content`;
  switch (turn.role) {
    case 'system':
      return undefined;
    case 'user':
      return { role: 'user', content: blocks(turn.parts, param) };
    case 'assistant': {
      const calls = turn.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args }));
      return { role: 'assistant', content: [...blocks(turn.parts, param), ...calls] };
    }
    case 'tool': {
      // tool_result content takes image and document blocks too, so what a tool returned is carried.
      const textOnly = turn.parts.every((p) => p.kind === 'text');
      const content = textOnly ? partsText(turn.parts) : blocks(turn.parts, param);
      return { role: 'user', content: [{ type: 'tool_result', tool_use_id: turn.toolCallId, content }] };
    }
  }
}

const isToolResult = (b: JsonObject): boolean => b.type === 'tool_result';

export function anthropicMessages(turns: readonly Turn[]): AnthropicTurn[] {
  const out: AnthropicTurn[] = [];
  turns.forEach((turn, i) => {
    const next = turnOf(turn, i);
    if (next === undefined || next.content.length === 0) return;
    const last = out.at(-1);
    if (last?.role === next.role) last.content.push(...next.content);
    else out.push(next);
  });
  for (const turn of out) {
    if (turn.role === 'user' && turn.content.some(isToolResult)) {
      turn.content = [...turn.content.filter(isToolResult), ...turn.content.filter((b) => !isToolResult(b))];
    }
  }
  return out;
}
