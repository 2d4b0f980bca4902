// OpenAI Chat Completions request → Gemini generateContent / streamGenerateContent (path + body).
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { geminiConversation } from './gemini-contents.ts';
import { geminiSchema, InlineBudget } from './gemini-schema.ts';
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

function declaration(tool: FunctionTool, index: number, budget: InlineBudget): JsonObject {
  const param = `tools[${index}].function.parameters`;
  const parameters = tool.parameters && geminiSchema(tool.parameters, { param, budget });
  // Gemini refuses an OBJECT schema with no properties; a no-argument function simply has none.
  const hasProperties = isRecord(parameters?.properties) && Object.keys(parameters.properties).length > 0;
  return compact({
    name: tool.name,
    description: tool.description,
    parameters: hasProperties ? { type: 'object', ...parameters } : undefined,
  });
}

function toolFields(body: JsonObject, budget: InlineBudget): JsonObject {
  const tools = readTools(body.tools, 'Gemini');
  const choice = readToolChoice(body.tool_choice);
  if (tools.length === 0) return {};
  const mode =
    choice === undefined
      ? undefined
      : { auto: 'AUTO', none: 'NONE', required: 'ANY', function: 'ANY' }[choice.mode];
  const allowed = choice?.mode === 'function' ? { allowedFunctionNames: [choice.name] } : {};
  return {
    tools: [{ functionDeclarations: tools.map((tool, i) => declaration(tool, i, budget)) }],
    ...(mode !== undefined && { toolConfig: { functionCallingConfig: { mode, ...allowed } } }),
  };
}

/** The first Gemini generation that takes function declarations together with a JSON response. */
const FIRST_GENERATION_WITH_TOOLS_AND_JSON = 3;

/** `gemini-2.5-flash` → 2; undefined for names that do not say (aliases such as gemini-flash-latest). */
function generation(model: string): number | undefined {
  const major = /^(?:models\/)?gemini-(\d+)(?:[.-]|$)/.exec(model)?.[1];
  return major === undefined ? undefined : Number(major);
}

/**
 * Function calling with responseMimeType application/json is refused with 400 by Gemini before 3
 * ("structured outputs with tools" is a Gemini 3 feature). Rather than send a request that cannot
 * succeed, or drop one of the two and change the answer, the target is refused for those models.
 */
function checkToolsWithJson(body: JsonObject, model: string): void {
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  if (!hasTools || readResponseFormat(body.response_format) === undefined) return;
  if ((generation(model) ?? 0) >= FIRST_GENERATION_WITH_TOOLS_AND_JSON) return;
  throw new UnsupportedParameter(
    'response_format',
    `Gemini model ${model}`,
    'Gemini models before 3 refuse tools together with a JSON response',
  );
}

function generationConfig(body: JsonObject, budget: InlineBudget): JsonObject | undefined {
  const json = readResponseFormat(body.response_format);
  const param = 'response_format.json_schema.schema';
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
    responseSchema: json?.kind === 'schema' ? geminiSchema(json.schema, { param, budget }) : undefined,
  });
  return Object.keys(config).length > 0 ? config : undefined;
}

/** Throws UnsupportedParameter or InvalidRequest (both TurnoutError, HTTP 400); nothing else. */
export function geminiRequestFromOpenAi(body: unknown, options: { model: string }): GeminiRequest {
  if (!isRecord(body)) throw new InvalidRequest('body', 'must be a JSON object');
  checkParameters(body, GEMINI_PARAMETER_RULES, 'Gemini');
  checkToolsWithJson(body, options.model);
  const budget = new InlineBudget(); // one per request: all its schemas share the inlining bound
  const model = encodeURIComponent(options.model.replace(/^models\//, ''));
  const path =
    body.stream === true
      ? `models/${model}:streamGenerateContent?alt=sse`
      : `models/${model}:generateContent`;
  const request = compact({
    ...geminiConversation(readOpenAiMessages(body.messages)),
    ...toolFields(body, budget),
    generationConfig: generationConfig(body, budget),
  });
  return { path, body: request };
}
