// OpenAI `messages` → neutral turns, validated once with precise parameter paths. The Anthropic and
// Gemini request writers both start from these, so they never re-check roles or tool-call shapes.
import { parseArguments, readContent, readText, type Part } from './content-parts.ts';
import { InvalidRequest } from './errors.ts';
import { asArray, isRecord, str } from './json.ts';

export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export type Turn =
  | { role: 'system'; text: string }
  | { role: 'user'; parts: Part[] }
  | { role: 'assistant'; parts: Part[]; toolCalls: ToolCall[] }
  /** A tool result: text, and the images or files some tools return with it. */
  | { role: 'tool'; toolCallId: string; parts: Part[] };

function readToolCall(call: unknown, param: string): ToolCall {
  if (!isRecord(call)) throw new InvalidRequest(param, 'tool call must be an object');
  const fn = isRecord(call.function) ? call.function : undefined;
  const id = str(call.id);
  const name = str(fn?.name);
  if (id === undefined) throw new InvalidRequest(`${param}.id`, 'must be a string');
  if (name === undefined) throw new InvalidRequest(`${param}.function.name`, 'must be a string');
  return { id, name, args: parseArguments(fn?.arguments, `${param}.function.arguments`) };
}

function readTurn(message: unknown, param: string): Turn {
  if (!isRecord(message)) throw new InvalidRequest(param, 'message must be an object');
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text: readText(message.content, `${param}.content`) };
    case 'user':
      return { role: 'user', parts: readContent(message.content, `${param}.content`) };
    case 'assistant': {
      const calls = message.tool_calls;
      if (calls !== undefined && calls !== null && !Array.isArray(calls)) {
        throw new InvalidRequest(`${param}.tool_calls`, 'must be an array');
      }
      return {
        role: 'assistant',
        parts: readContent(message.content, `${param}.content`),
        toolCalls: asArray(calls).map((c, i) => readToolCall(c, `${param}.tool_calls[${i}]`)),
      };
    }
    case 'tool': {
      const toolCallId = str(message.tool_call_id);
      if (toolCallId === undefined) throw new InvalidRequest(`${param}.tool_call_id`, 'must be a string');
      return { role: 'tool', toolCallId, parts: readContent(message.content, `${param}.content`) };
    }
    default:
      throw new InvalidRequest(`${param}.role`, `unsupported role ${JSON.stringify(message.role)}`);
  }
}

export function readOpenAiMessages(messages: unknown): Turn[] {
  if (!Array.isArray(messages)) throw new InvalidRequest('messages', 'must be an array');
  return messages.map((m: unknown, i) => readTurn(m, `messages[${i}]`));
}

/** All system/developer text, in order, joined by blank lines: both targets take one system prompt. */
export function systemText(turns: readonly Turn[]): string | undefined {
  const texts = turns.flatMap((t) => (t.role === 'system' && t.text !== '' ? [t.text] : []));
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}
