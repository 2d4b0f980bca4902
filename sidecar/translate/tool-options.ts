// The OpenAI tool and output options both non-OpenAI writers need, read once: function tools,
// tool_choice and response_format, in a neutral form.
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { JSON_ANSWER_TOOL } from './json-answer-tool.ts';
import { isRecord, str, type JsonObject } from './json.ts';

export interface FunctionTool {
  name: string;
  description?: string;
  parameters?: JsonObject;
}

export type ToolChoice = { mode: 'auto' | 'none' | 'required' } | { mode: 'function'; name: string };

export type JsonMode = { kind: 'object' } | { kind: 'schema'; name: string; schema: JsonObject };

function readTool(tool: unknown, param: string, target: string): FunctionTool {
  if (!isRecord(tool)) throw new InvalidRequest(param, 'tool must be an object');
  if (tool.type !== 'function') {
    throw new UnsupportedParameter(`${param}.type`, target, 'only function tools can be translated');
  }
  const fn = isRecord(tool.function) ? tool.function : {};
  const name = str(fn.name);
  if (name === undefined) throw new InvalidRequest(`${param}.function.name`, 'must be a string');
  if (name === JSON_ANSWER_TOOL) throw new InvalidRequest(`${param}.function.name`, 'is a reserved name');
  const parameters = fn.parameters;
  if (parameters !== undefined && parameters !== null && !isRecord(parameters)) {
    throw new InvalidRequest(`${param}.function.parameters`, 'must be a JSON schema object');
  }
  const description = str(fn.description);
  return {
    name,
    ...(description !== undefined && { description }),
    ...(isRecord(parameters) && { parameters }),
  };
}

export function readTools(tools: unknown, target: string): FunctionTool[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw new InvalidRequest('tools', 'must be an array');
  return tools.map((t: unknown, i) => readTool(t, `tools[${i}]`, target));
}

export function readToolChoice(choice: unknown): ToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { mode: choice };
  const fn =
    isRecord(choice) && choice.type === 'function' && isRecord(choice.function) ? choice.function : {};
  const name = str(fn.name);
  if (name === undefined) {
    throw new InvalidRequest(
      'tool_choice',
      'must be auto, none, required or {type: function, function: {name}}',
    );
  }
  return { mode: 'function', name };
}

export function readResponseFormat(format: unknown): JsonMode | undefined {
  if (format === undefined || format === null) return undefined;
  const type = isRecord(format) ? format.type : undefined;
  if (type === 'text') return undefined;
  if (type === 'json_object') return { kind: 'object' };
  if (type !== 'json_schema' || !isRecord(format)) {
    throw new InvalidRequest('response_format.type', 'must be text, json_object or json_schema');
  }
  const spec = isRecord(format.json_schema) ? format.json_schema : {};
  if (!isRecord(spec.schema))
    throw new InvalidRequest('response_format.json_schema.schema', 'must be an object');
  return { kind: 'schema', name: str(spec.name) ?? 'response', schema: spec.schema };
}

/**
 * Whether a canonical request asks for a JSON answer: what AnthropicToOpenAiStream's `jsonMode` needs to
 * know about the request. Never throws (a malformed response_format was refused when it was translated).
 */
export function asksForJson(body: unknown): boolean {
  try {
    return isRecord(body) && readResponseFormat(body.response_format) !== undefined;
  } catch {
    return false;
  }
}
