import type { Answer, Exchange } from '../answer.ts';
import { asArray, hasItems, isRecord, textOf } from '../request-text.ts';
import { dataFrame } from '../sse.ts';
import type { Frame, Route } from './dialect.ts';

export const generateContent: Route = {
  endpoint: 'generateContent',
  scripted: true,
  parse: (body, path) => parseGenerate(body, path, false),
  json: responseJson,
};

export const streamGenerateContent: Route = {
  endpoint: 'streamGenerateContent',
  scripted: true,
  parse: (body, path) => parseGenerate(body, path, true),
  json: responseJson,
  frames: streamFrames,
  streamError: (body) => `data: ${JSON.stringify(body)}\n\n`,
};

/** The model between "models/" and ":" in /v1beta/models/{model}:generateContent. */
export function modelInPath(path: string): string {
  const start = path.indexOf('/models/') + '/models/'.length;
  const end = path.lastIndexOf(':');
  return decodeURIComponent(path.slice(start, end > start ? end : undefined));
}

function parseGenerate(body: Record<string, unknown>, path: string, stream: boolean): Exchange {
  const system = body.systemInstruction;
  let promptChars = isRecord(system) ? textOf(system.parts).length : 0;
  let lastUserText = '';
  for (const content of asArray(body.contents)) {
    if (!isRecord(content)) continue;
    const text = textOf(content.parts);
    promptChars += text.length;
    if (content.role === 'user' || content.role === undefined) lastUserText = text;
  }
  const model = modelInPath(path);
  return {
    endpoint: stream ? 'streamGenerateContent' : 'generateContent',
    model,
    stream,
    promptChars,
    lastUserText,
    hasTools: hasItems(body.tools),
    includeUsage: false,
    body,
    cacheKey: stream ? undefined : `generate\0${model}\0${promptChars}\0${lastUserText}`,
  };
}

// Zero cache and thought counts are omitted, as the real API does; promptTokenCount includes cached tokens.
function usageMetadata(answer: Answer, candidates: number | undefined): Record<string, unknown> {
  const { prompt, cached, reasoning } = answer.usage;
  const usage: Record<string, unknown> = { promptTokenCount: prompt };
  if (candidates !== undefined) usage.candidatesTokenCount = candidates;
  usage.totalTokenCount = prompt + (candidates === undefined ? 0 : candidates + reasoning);
  if (cached > 0) usage.cachedContentTokenCount = cached;
  if (reasoning > 0 && candidates !== undefined) usage.thoughtsTokenCount = reasoning;
  usage.promptTokensDetails = [{ modality: 'TEXT', tokenCount: prompt }];
  return usage;
}

function envelope(answer: Answer, fields: Record<string, unknown>): Record<string, unknown> {
  return { ...fields, modelVersion: answer.model, responseId: answer.id };
}

function candidate(parts: unknown[], finishReason: string | undefined): Record<string, unknown> {
  const value: Record<string, unknown> = { content: { parts, role: 'model' } };
  if (finishReason !== undefined) value.finishReason = finishReason;
  value.index = 0;
  return value;
}

// A blocked prompt has no candidates at all, only promptFeedback.
function blocked(answer: Answer): Record<string, unknown> {
  const safetyRatings = [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }];
  return envelope(answer, {
    promptFeedback: { blockReason: 'SAFETY', safetyRatings },
    usageMetadata: usageMetadata(answer, undefined),
  });
}

function finalParts(answer: Answer): unknown[] {
  const parts: unknown[] = answer.content !== '' ? [{ text: answer.content }] : [];
  if (answer.tool !== undefined)
    parts.push({ functionCall: { name: answer.tool.name, args: answer.tool.args } });
  return parts.length > 0 ? parts : [{ text: '' }];
}

function responseJson(answer: Answer): unknown {
  if (answer.refusal) return blocked(answer);
  return envelope(answer, {
    candidates: [candidate(finalParts(answer), answer.finishReason ?? 'STOP')],
    usageMetadata: usageMetadata(answer, answer.usage.completion),
  });
}

// Gemini sends a function call whole in one chunk; only text is split. The finish chunk is the only end
// marker a Gemini stream has, so it is the frame no-done drops.
function streamFrames(answer: Answer): Frame[] {
  if (answer.refusal) return [dataFrame('end', blocked(answer))];
  const interim = usageMetadata(answer, undefined);
  const chunk = (part: unknown): Frame =>
    dataFrame(
      'delta',
      envelope(answer, { candidates: [candidate([part], undefined)], usageMetadata: interim }),
    );
  const frames = answer.pieces.map((text) => chunk({ text }));
  if (answer.tool !== undefined)
    frames.push(chunk({ functionCall: { name: answer.tool.name, args: answer.tool.args } }));
  const finish = candidate([{ text: '' }], answer.finishReason ?? 'STOP');
  frames.push(
    dataFrame(
      'end',
      envelope(answer, {
        candidates: [finish],
        usageMetadata: usageMetadata(answer, answer.usage.completion),
      }),
    ),
  );
  return frames;
}
