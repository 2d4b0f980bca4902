// Cascade routing: targets are tried cheapest first and an answer is only returned when it passes the
// route's acceptance rules; otherwise the next (dearer) target is asked. A rejected answer never
// reaches the caller — for streams the answer is held back until it has been judged.
import { z } from 'zod';
import type { SnapshotRoute } from '../../api/index.ts';
import type { CallerDialect } from '../dialects/shaper.ts';
import { finishFromAnthropic } from '../translate/index.ts';

export interface Answer {
  text: string;
  /** In OpenAI terms: stop, length, tool_calls, content_filter. */
  finishReason: string | undefined;
  outputTokens: number | undefined;
}

/** Returns why an answer is rejected, or undefined when it is accepted. */
export type Acceptance = (answer: Answer) => string | undefined;

const compiled = new WeakMap<SnapshotRoute, Acceptance>();

/** The route's acceptance check, built once per route object; undefined unless the route cascades. */
export function acceptanceFor(route: SnapshotRoute): Acceptance | undefined {
  if (route.strategy !== 'cascade' || !route.cascade) return undefined;
  let check = compiled.get(route);
  if (!check) {
    check = buildAcceptance(route.cascade);
    compiled.set(route, check);
  }
  return check;
}

function buildAcceptance(rules: NonNullable<SnapshotRoute['cascade']>): Acceptance {
  let schema: z.ZodType | undefined;
  let schemaProblem: string | undefined;
  if (rules.jsonSchema) {
    try {
      schema = z.fromJSONSchema(rules.jsonSchema);
    } catch (e) {
      schemaProblem = `cascade.accept.jsonSchema cannot be used: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return (answer) => {
    if (
      rules.finishReasons &&
      rules.finishReasons.length > 0 &&
      !rules.finishReasons.includes(answer.finishReason ?? '')
    ) {
      return `finish reason ${answer.finishReason ?? 'none'} is not one of ${rules.finishReasons.join(', ')}`;
    }
    const tokens = answer.outputTokens ?? Math.ceil(answer.text.length / 4);
    if (rules.minOutputTokens !== undefined && tokens < rules.minOutputTokens) {
      return `${tokens} output tokens, fewer than the ${rules.minOutputTokens} required`;
    }
    if (schemaProblem) return schemaProblem;
    if (schema) {
      let value: unknown;
      try {
        value = JSON.parse(answer.text);
      } catch {
        return 'the answer is not JSON';
      }
      const result = schema.safeParse(value);
      if (!result.success)
        return `the answer does not match the JSON schema: ${result.error.issues[0]?.message ?? 'invalid'}`;
    }
    return undefined;
  };
}

/** The answer text of a complete JSON response in the caller's dialect. */
export function answerFromJson(
  caller: CallerDialect,
  bytes: Buffer,
  finishReason: string | undefined,
  outputTokens: number | undefined,
): Answer {
  const parsed = JSON.parse(bytes.toString('utf8')) as {
    choices?: { message?: { content?: unknown } }[];
    content?: { type?: string; text?: unknown }[];
  };
  const content = parsed.choices?.[0]?.message?.content;
  const text =
    caller === 'openai'
      ? typeof content === 'string'
        ? content
        : ''
      : (parsed.content ?? [])
          .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
          .join('');
  const finish =
    caller === 'anthropic' && finishReason !== undefined ? finishFromAnthropic(finishReason) : finishReason;
  return { text, finishReason: finish, outputTokens };
}

/** The answer text of buffered SSE frames in the caller's dialect (content deltas concatenated). */
export function textFromFrames(caller: CallerDialect, frames: readonly string[]): string {
  let text = '';
  for (const frame of frames) {
    const line = frame.split('\n').find((l) => l.startsWith('data: '));
    if (!line || line === 'data: [DONE]') continue;
    try {
      const data = JSON.parse(line.slice(6)) as {
        choices?: { delta?: { content?: unknown } }[];
        delta?: { type?: string; text?: unknown };
      };
      if (caller === 'openai' && typeof data.choices?.[0]?.delta?.content === 'string')
        text += data.choices[0].delta.content;
      if (caller === 'anthropic' && data.delta?.type === 'text_delta' && typeof data.delta.text === 'string')
        text += data.delta.text;
    } catch {
      // frames were produced by our own translators; an unparsable one carries no text
    }
  }
  return text;
}
