// Prompt and completion content for spans, only ever built when content capture is switched on. Shaped
// as the GenAI conventions' gen_ai.input.messages / gen_ai.output.messages (role + text parts), cut to a
// bounded size so one huge prompt cannot make a huge span.
import type { CallerDialect } from '../dialects/shaper.ts';
import { answerFromJson, textFromFrames } from '../policy/cascade.ts';

/** Characters kept per content attribute; the rest is dropped with a marker. */
export const MAX_CONTENT_CHARS = 16 * 1024;

export interface CallContent {
  input: string;
  output?: string;
}

interface Part {
  type: 'text';
  content: string;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((p: unknown) => {
      const part = p as { type?: unknown; text?: unknown };
      return typeof part.text === 'string'
        ? part.text
        : `[${typeof part.type === 'string' ? part.type : 'part'}]`;
    })
    .join('');
}

const cut = (s: string) =>
  s.length > MAX_CONTENT_CHARS
    ? `${s.slice(0, MAX_CONTENT_CHARS)}…[truncated ${s.length - MAX_CONTENT_CHARS}]`
    : s;

/** The request's messages (chat) or input (embeddings, responses), in canonical form. */
export function inputContent(body: Record<string, unknown>): string {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    const shaped = messages.map((m: unknown) => {
      const msg = m as { role?: unknown; content?: unknown };
      const parts: Part[] = [{ type: 'text', content: textOf(msg.content) }];
      return { role: typeof msg.role === 'string' ? msg.role : 'user', parts };
    });
    return cut(JSON.stringify(shaped));
  }
  const input = body.input;
  const parts: Part[] = [{ type: 'text', content: textOf(input) }];
  return cut(JSON.stringify([{ role: 'user', parts }]));
}

/** The answer text of what the caller received (a JSON body or SSE frames), as one assistant message. */
export function outputContent(
  caller: CallerDialect,
  recorded: { body?: Buffer; frames?: string[] } | undefined,
  finishReason: string | undefined,
): string | undefined {
  if (!recorded) return undefined;
  let text: string;
  try {
    text = recorded.frames
      ? textFromFrames(caller, recorded.frames)
      : recorded.body
        ? answerFromJson(caller, recorded.body, finishReason, undefined).text
        : '';
  } catch {
    return undefined;
  }
  const parts: Part[] = [{ type: 'text', content: text }];
  return cut(JSON.stringify([{ role: 'assistant', parts, finish_reason: finishReason ?? null }]));
}
