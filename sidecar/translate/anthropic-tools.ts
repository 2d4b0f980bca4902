// OpenAI tools, tool_choice, parallel_tool_calls and response_format → Anthropic tools and tool_choice.
// JSON modes become the forced answer tool (json-answer-tool.ts); with caller tools also present the
// model must call *a* tool (any): one of the caller's, or the answer tool for its final JSON.
import { InvalidRequest } from './errors.ts';
import { JSON_ANSWER_DESCRIPTION, JSON_ANSWER_TOOL } from './json-answer-tool.ts';
import type { JsonObject } from './json.ts';
import {
  readResponseFormat,
  readToolChoice,
  readTools,
  type FunctionTool,
  type JsonMode,
  type ToolChoice,
} from './tool-options.ts';

const EMPTY_OBJECT_SCHEMA = { type: 'object', properties: {} };

function toolOf(tool: FunctionTool): JsonObject {
  // Anthropic requires an object-typed input_schema; OpenAI lets callers omit it for no-argument tools.
  const input_schema = tool.parameters ? { type: 'object', ...tool.parameters } : EMPTY_OBJECT_SCHEMA;
  return {
    name: tool.name,
    ...(tool.description !== undefined && { description: tool.description }),
    input_schema,
  };
}

function answerTool(mode: JsonMode): JsonObject {
  if (mode.kind === 'object') {
    return { name: JSON_ANSWER_TOOL, description: JSON_ANSWER_DESCRIPTION, input_schema: { type: 'object' } };
  }
  const type = mode.schema.type ?? 'object';
  if (type !== 'object') {
    throw new InvalidRequest(
      'response_format.json_schema.schema.type',
      'the root of the schema must be an object',
    );
  }
  return {
    name: JSON_ANSWER_TOOL,
    description: JSON_ANSWER_DESCRIPTION,
    input_schema: { ...mode.schema, type },
  };
}

function choiceOf(choice: ToolChoice): JsonObject {
  if (choice.mode === 'function') return { type: 'tool', name: choice.name };
  return { type: choice.mode === 'required' ? 'any' : choice.mode };
}

function jsonChoice(tools: readonly FunctionTool[], choice: ToolChoice | undefined): JsonObject {
  if (tools.length === 0 || choice?.mode === 'none') return { type: 'tool', name: JSON_ANSWER_TOOL };
  if (choice?.mode === 'function') return choiceOf(choice);
  return { type: 'any' };
}

export interface AnthropicToolFields {
  tools?: JsonObject[];
  tool_choice?: JsonObject;
}

export function anthropicToolFields(body: JsonObject): AnthropicToolFields {
  const tools = readTools(body.tools, 'Anthropic');
  const choice = readToolChoice(body.tool_choice);
  const json = readResponseFormat(body.response_format);
  let fields: AnthropicToolFields;
  if (json !== undefined) {
    const callable = choice?.mode === 'none' ? [] : tools;
    fields = {
      tools: [...callable.map(toolOf), answerTool(json)],
      tool_choice: jsonChoice(callable, choice),
    };
  } else if (tools.length > 0) {
    fields = { tools: tools.map(toolOf), ...(choice && { tool_choice: choiceOf(choice) }) };
  } else {
    return {}; // Anthropic refuses a tool_choice without tools.
  }
  if (body.parallel_tool_calls === false && fields.tool_choice?.type !== 'none') {
    fields.tool_choice = { type: 'auto', ...fields.tool_choice, disable_parallel_tool_use: true };
  }
  return fields;
}
