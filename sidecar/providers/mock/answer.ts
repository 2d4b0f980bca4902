// What the SIMULATED provider says. Every answer is labelled "[simulated]" so nobody mistakes it for a
// model's output, and usage is estimated (≈4 characters per token) so cost accounting has numbers.

export interface MockAnswer {
  content: string;
  toolCall?: { name: string; arguments: string };
  promptTokens: number;
  completionTokens: number;
}

export function mockAnswer(providerName: string, body: Record<string, unknown>): MockAnswer {
  const model = String(body.model);
  const messages = Array.isArray(body.messages)
    ? (body.messages as { role?: unknown; content?: unknown }[])
    : [];
  const promptChars = messages.reduce((n, m) => n + textOf(m.content).length, 0);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const quote = textOf(lastUser?.content).slice(0, 80);
  const content = `[simulated] ${providerName}/${model} received: "${quote}"`;
  const tools = Array.isArray(body.tools) ? (body.tools as { function?: { name?: unknown } }[]) : [];
  const toolName = tools[0]?.function?.name;
  const toolCall =
    typeof toolName === 'string' && body.tool_choice !== 'none'
      ? { name: toolName, arguments: JSON.stringify({ simulated: true }) }
      : undefined;
  return {
    content: toolCall ? '' : content,
    ...(toolCall && { toolCall }),
    promptTokens: Math.max(1, Math.ceil(promptChars / 4)),
    completionTokens: Math.max(1, Math.ceil(content.length / 4)),
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join(' ');
  }
  return '';
}

const usageOf = (a: MockAnswer) => ({
  prompt_tokens: a.promptTokens,
  completion_tokens: a.completionTokens,
  total_tokens: a.promptTokens + a.completionTokens,
});

export function completionJson(id: string, model: string, a: MockAnswer): string {
  const message = a.toolCall
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: `call_${id}`, type: 'function', function: a.toolCall }],
      }
    : { role: 'assistant', content: a.content };
  return JSON.stringify({
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: a.toolCall ? 'tool_calls' : 'stop', logprobs: null }],
    usage: usageOf(a),
  });
}

/** SSE events of a streamed answer, content split into `chunks` pieces; `[DONE]` last. */
export function streamEvents(
  id: string,
  model: string,
  a: MockAnswer,
  chunks: number,
  includeUsage: boolean,
): string[] {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
  const events = [chunk({ role: 'assistant', content: '' })];
  if (a.toolCall) {
    events.push(
      chunk({
        tool_calls: [
          {
            index: 0,
            id: `call_${id}`,
            type: 'function',
            function: { name: a.toolCall.name, arguments: '' },
          },
        ],
      }),
    );
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: a.toolCall.arguments } }] }));
  } else {
    const size = Math.max(1, Math.ceil(a.content.length / chunks));
    for (let i = 0; i < a.content.length; i += size)
      events.push(chunk({ content: a.content.slice(i, i + size) }));
  }
  events.push(chunk({}, a.toolCall ? 'tool_calls' : 'stop'));
  if (includeUsage) {
    events.push(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(a) })}\n\n`,
    );
  }
  events.push('data: [DONE]\n\n');
  return events;
}

/** SIMULATED embeddings: a deterministic unit vector per input text (same text, same vector). */
export function mockEmbeddings(body: Record<string, unknown>): string {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims =
    typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.min(body.dimensions, 4096) : 16;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    tokens += Math.max(1, Math.ceil(text.length / 4));
    let seed = 2166136261;
    for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619);
    const v = Array.from({ length: dims }, (_, i) => Math.sin(seed + i * 7919));
    const norm = Math.hypot(...v) || 1;
    return { object: 'embedding', index, embedding: v.map((x) => x / norm) };
  });
  return JSON.stringify({
    object: 'list',
    data,
    model: String(body.model),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
