/** Plain-fetch helpers for the fake tests; they read bodies the way a proxy would, chunk by chunk. */

export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
}

export interface BodyRead {
  text: string;
  /** The error reading the body ended with, if it did not end cleanly. */
  error: unknown;
}

/** Reads the whole body, keeping what arrived before a failure. */
export async function readBody(res: Response): Promise<BodyRead> {
  const decoder = new TextDecoder();
  let text = '';
  if (res.body === null) return { text, error: undefined };
  try {
    // Without the DOM lib the body's chunk type is any; fetch always yields bytes.
    for await (const chunk of res.body as AsyncIterable<Uint8Array>)
      text += decoder.decode(chunk, { stream: true });
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

/** Reads until `predicate` holds on the text so far, then stops (the body stays open). */
export async function readUntil(res: Response, predicate: (text: string) => boolean): Promise<string> {
  if (res.body === null) throw new Error('no body');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`body ended before the condition held: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

/** The JSON payloads of the `data:` lines of an SSE body ([DONE] and unparsable lines are skipped). */
export function sseData(text: string): Record<string, unknown>[] {
  const payloads: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    try {
      payloads.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
    } catch {
      // Malformed-chunk tests look for the raw line instead.
    }
  }
  return payloads;
}

export function sseEvents(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('event: '))
    .map((line) => line.slice(7));
}

export function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
