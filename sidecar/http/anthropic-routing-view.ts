// What routing needs from an Anthropic Messages request that cannot be put into OpenAI form (an
// Anthropic-only tool, block or parameter). Only an Anthropic upstream can serve it — it gets the caller's
// own bytes — but matching, token estimates and capability checks still need an OpenAI-shaped view:
// the text of every block, image parts, tools and JSON mode. Nothing built here is ever sent upstream.
import type { ChatBody } from '../routing/features.ts';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The text a block carries, wherever it keeps it (text, tool input, tool results, documents…). */
function blockText(block: unknown): string {
  if (typeof block === 'string') return block;
  if (Array.isArray(block)) return block.map(blockText).join('\n');
  if (!isRecord(block)) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(block)) {
    if (key === 'type' || key === 'id' || key === 'tool_use_id' || key === 'source') continue;
    if (typeof value === 'string') parts.push(value);
    else if (typeof value === 'object' && value !== null) parts.push(blockText(value));
  }
  return parts.filter((p) => p !== '').join('\n');
}

function contentParts(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((block: unknown) =>
    isRecord(block) && block.type === 'image'
      ? { type: 'image_url', image_url: { url: 'anthropic-image' } }
      : { type: 'text', text: blockText(block) },
  );
}

export function anthropicRoutingView(body: Json & { model: string }): ChatBody {
  const messages: Json[] = [];
  if (body.system !== undefined) messages.push({ role: 'system', content: blockText(body.system) });
  for (const message of body.messages as unknown[]) {
    const role = isRecord(message) && message.role === 'assistant' ? 'assistant' : 'user';
    messages.push({ role, content: contentParts(isRecord(message) ? message.content : undefined) });
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  // Tool definitions are prompt tokens too: as a message, the token estimate sees them.
  if (tools.length > 0) messages.push({ role: 'system', content: blockText(tools) });
  const format = isRecord(body.output_config) ? body.output_config.format : body.output_format;
  return {
    model: body.model,
    messages,
    ...(body.stream === true && { stream: true }),
    ...(typeof body.max_tokens === 'number' && { max_completion_tokens: body.max_tokens }),
    ...(tools.length > 0 && {
      tools: tools.map((tool: unknown) => ({
        type: 'function',
        function: { name: isRecord(tool) && typeof tool.name === 'string' ? tool.name : 'tool' },
      })),
    }),
    ...(isRecord(format) && { response_format: { type: 'json_schema' } }),
  };
}
