// OpenAI Chat Completions request → Gemini generateContent / streamGenerateContent (path + body).
import { InvalidRequest } from './errors.ts';
import { geminiConversation } from './gemini-contents.ts';
import { geminiSchema } from './gemini-schema.ts';
import { compact, isRecord, type JsonObject } from './json.ts';
import { readOpenAiMessages } from './openai-messages.ts';
import { GEMINI_PARAMETER_RULES, checkParameters } from './parameter-rules.ts';
import { maxOutputTokens, optionalCount, optionalNumber, stopSequences } from './request-fields.ts';
import { readResponseFormat, readToolChoice, readTools, type FunctionTool } from './tool-options.ts';

export interface GeminiRequest {
  /** Relative to the API version base (…/v1beta/). */
  path: string;
  body: JsonObject;
}

function declaration(tool: FunctionTool): JsonObject {
  const parameters = tool.parameters && geminiSchema(tool.parameters);
  // Gemini refuses an OBJECT schema with no properties; a no-argument function simply has none.
  const hasProperties = isRecord(parameters?.properties) && Object.keys(parameters.properties).length > 0;
  return compact({
    name: tool.name,
    description: tool.description,
    parameters: hasProperties ? { type: 'object', ...parameters } : undefined,
  });
}

function toolFields(body: JsonObject): JsonObject {
  const tools = readTools(body.tools, 'Gemini');
  const choice = readToolChoice(body.tool_choice);
  if (tools.length === 0) return {};
  const mode =
    choice === undefined
      ? undefined
      : { auto: 'AUTO', none: 'NONE', required: 'ANY', function: 'ANY' }[choice.mode];
  const allowed = choice?.mode === 'function' ? { allowedFunctionNames: [choice.name] } : {};
  return {
    tools: [{ functionDeclarations: tools.map(declaration) }],
    ...(mode !== undefined && { toolConfig: { functionCallingConfig: { mode, ...allowed } } }),
  };
}

function generationConfig(body: JsonObject): JsonObject | undefined {
  const json = readResponseFormat(body.response_format);
  const config = compact({
    maxOutputTokens: maxOutputTokens(body),
    temperature: optionalNumber(body, 'temperature'),
    topP: optionalNumber(body, 'top_p'),
    stopSequences: stopSequences(body),
    candidateCount: optionalCount(body, 'n'),
    presencePenalty: optionalNumber(body, 'presence_penalty'),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty'),
    seed: optionalNumber(body, 'seed'),
    responseMimeType: json === undefined ? undefined : 'application/json',
    responseSchema: json?.kind === 'schema' ? geminiSchema(json.schema) : undefined,
  });
  return Object.keys(config).length > 0 ? config : undefined;
}

/** Throws UnsupportedParameter or InvalidRequest (both TurnoutError, HTTP 400); nothing else. */
export function geminiRequestFromOpenAi(body: unknown, options: { model: string }): GeminiRequest {
  if (!isRecord(body)) throw new InvalidRequest('body', 'must be a JSON object');
  checkParameters(body, GEMINI_PARAMETER_RULES, 'Gemini');
  const model = encodeURIComponent(options.model.replace(/^models\//, ''));
  const path =
    body.stream === true
      ? `models/${model}:streamGenerateContent?alt=sse`
      : `models/${model}:generateContent`;
  const request = compact({
    ...geminiConversation(readOpenAiMessages(body.messages)),
    ...toolFields(body),
    generationConfig: generationConfig(body),
  });
  return { path, body: request };
}
