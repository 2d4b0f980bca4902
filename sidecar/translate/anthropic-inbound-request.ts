// Anthropic Messages request (an Anthropic-dialect caller) → canonical OpenAI Chat Completions request,
// for routes whose target speaks OpenAI or Gemini.
import {
  openAiMessagesFromAnthropic,
  systemMessage,
  TRANSLATED_TARGET,
} from './anthropic-inbound-messages.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { compact, isRecord, str, type JsonObject } from './json.ts';
import { ANTHROPIC_INBOUND_PARAMETER_RULES, checkParameters } from './parameter-rules.ts';
import { optionalCount, optionalNumber, optionalString } from './request-fields.ts';

function toolOf(tool: unknown, param: string): JsonObject {
  if (!isRecord(tool)) throw new InvalidRequest(param, 'tool must be an object');
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    throw new UnsupportedParameter(
      `${param}.type`,
      TRANSLATED_TARGET,
      `${JSON.stringify(tool.type)} is an Anthropic server tool`,
    );
  }
  const name = str(tool.name);
  if (name === undefined) throw new InvalidRequest(`${param}.name`, 'must be a string');
  const description = str(tool.description);
  const parameters = isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} };
  return { type: 'function', function: compact({ name, description, parameters }) };
}

function tools(value: unknown): JsonObject[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidRequest('tools', 'must be an array');
  return value.length > 0 ? value.map((t: unknown, i) => toolOf(t, `tools[${i}]`)) : undefined;
}

/** Anthropic tool_choice types → OpenAI's (a Map: a caller's "constructor" must not find Object's). */
const TOOL_CHOICE_MODES = new Map([
  ['auto', 'auto'],
  ['any', 'required'],
  ['none', 'none'],
]);

function toolChoice(choice: unknown): JsonObject {
  if (choice === undefined || choice === null) return {};
  if (!isRecord(choice)) throw new InvalidRequest('tool_choice', 'must be an object');
  const parallel = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  if (choice.type === 'tool') {
    const name = str(choice.name);
    if (name === undefined) throw new InvalidRequest('tool_choice.name', 'must be a string');
    return { tool_choice: { type: 'function', function: { name } }, ...parallel };
  }
  const mapped = typeof choice.type === 'string' ? TOOL_CHOICE_MODES.get(choice.type) : undefined;
  if (mapped === undefined) throw new InvalidRequest('tool_choice.type', 'must be auto, any, tool or none');
  return { tool_choice: mapped, ...parallel };
}

/**
 * The answer's format: output_config.format, or `output_format`, the spelling of the structured-outputs
 * beta (anthropic-beta: structured-outputs-2025-11-13). Either changes the answer's shape, so neither
 * may be dropped: both become response_format json_schema.
 */
function responseFormat(body: JsonObject): JsonObject | undefined {
  const config = isRecord(body.output_config) ? body.output_config : {};
  const [param, format] =
    config.format !== undefined && config.format !== null
      ? ['output_config.format', config.format]
      : ['output_format', body.output_format];
  if (format === undefined || format === null) return undefined;
  if (body.output_format !== undefined && body.output_format !== null && param !== 'output_format') {
    throw new InvalidRequest('output_format', 'give either output_format or output_config.format');
  }
  if (!isRecord(format) || format.type !== 'json_schema' || !isRecord(format.schema)) {
    throw new InvalidRequest(param, 'must be {type: json_schema, schema}');
  }
  // Anthropic enforces the schema; strict is the OpenAI equivalent (both need closed objects).
  return { type: 'json_schema', json_schema: { name: 'response', schema: format.schema, strict: true } };
}

function stop(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new InvalidRequest('stop_sequences', 'must be an array of strings');
  }
  return value.length > 0 ? value : undefined;
}

/**
 * The canonical request for `model`. Streams ask for usage (stream_options.include_usage) so the
 * Anthropic message_delta can report it. Throws UnsupportedParameter or InvalidRequest only.
 */
export function openAiRequestFromAnthropic(body: unknown, options: { model?: string } = {}): JsonObject {
  if (!isRecord(body)) throw new InvalidRequest('body', 'must be a JSON object');
  checkParameters(body, ANTHROPIC_INBOUND_PARAMETER_RULES, TRANSLATED_TARGET);
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  const stream = body.stream === true;
  const functions = tools(body.tools);
  const choice = toolChoice(body.tool_choice); // OpenAI refuses a tool_choice without tools
  return compact({
    model: options.model ?? optionalString(body, 'model'),
    messages: [...systemMessage(body.system), ...openAiMessagesFromAnthropic(body.messages)],
    max_completion_tokens: optionalCount(body, 'max_tokens'),
    temperature: optionalNumber(body, 'temperature'),
    top_p: optionalNumber(body, 'top_p'),
    stop: stop(body.stop_sequences),
    stream: stream ? true : undefined,
    stream_options: stream ? { include_usage: true } : undefined,
    tools: functions,
    ...(functions !== undefined && choice),
    response_format: responseFormat(body),
    user: str(metadata.user_id),
  });
}
