// OpenAI message content (a string or an array of typed parts) → a small neutral list of parts that
// the Anthropic and Gemini writers both consume, so each content type is understood in one place.
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { isRecord, parseJson, str } from './json.ts';

export type ImageSource = { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'image'; source: ImageSource }
  /** A document (PDF) sent inline. */
  | { kind: 'file'; mediaType: string; data: string }
  | { kind: 'audio'; mediaType: string; data: string };

interface DataUrl {
  mediaType: string;
  data: string;
}

/** `data:image/png;base64,AAAA` → its media type and base64 payload; undefined for anything else. */
export function parseDataUrl(url: string): DataUrl | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const header = url.slice(5, comma).split(';');
  if (header.at(-1) !== 'base64') return undefined;
  return { mediaType: header[0] || 'application/octet-stream', data: url.slice(comma + 1) };
}

export function imageSource(url: unknown, param: string): ImageSource {
  if (typeof url !== 'string') throw new InvalidRequest(param, 'image url must be a string');
  const inline = parseDataUrl(url);
  if (inline) return { kind: 'base64', ...inline };
  if (/^https?:\/\//i.test(url)) return { kind: 'url', url };
  throw new InvalidRequest(param, 'image url must be an http(s) URL or a base64 data: URL');
}

function readPart(part: unknown, param: string): Part {
  if (!isRecord(part)) throw new InvalidRequest(param, 'content part must be an object');
  switch (part.type) {
    case 'text':
    case 'refusal': {
      const text = str(part.text) ?? str(part.refusal);
      if (text === undefined) throw new InvalidRequest(`${param}.text`, 'must be a string');
      return { kind: 'text', text };
    }
    case 'image_url': {
      const image = part.image_url;
      const url = isRecord(image) ? image.url : image;
      return { kind: 'image', source: imageSource(url, `${param}.image_url.url`) };
    }
    case 'input_audio': {
      const audio = isRecord(part.input_audio) ? part.input_audio : {};
      const data = str(audio.data);
      if (data === undefined) throw new InvalidRequest(`${param}.input_audio.data`, 'must be a string');
      return { kind: 'audio', mediaType: `audio/${str(audio.format) ?? 'wav'}`, data };
    }
    case 'file':
      return readFile(part.file, `${param}.file`);
    default:
      throw new InvalidRequest(`${param}.type`, `unknown content part type ${JSON.stringify(part.type)}`);
  }
}

function readFile(file: unknown, param: string): Part {
  const inline =
    isRecord(file) && typeof file.file_data === 'string' ? parseDataUrl(file.file_data) : undefined;
  if (inline) return { kind: 'file', ...inline };
  throw new UnsupportedParameter(
    param,
    'a non-OpenAI provider',
    'only inline file_data (a data: URL) is carried',
  );
}

export function readContent(content: unknown, param: string): Part[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) throw new InvalidRequest(param, 'must be a string or an array of parts');
  return content.map((part: unknown, i) => readPart(part, `${param}[${i}]`));
}

/** The text parts of content, one per line; other parts are not text and are left out. */
export function partsText(parts: readonly Part[]): string {
  return parts.flatMap((p) => (p.kind === 'text' ? [p.text] : [])).join('\n');
}

/** The text of content that may only hold text (system messages). */
export function readText(content: unknown, param: string): string {
  return partsText(readContent(content, param));
}

/**
 * Tool-call arguments as an object. OpenAI sends a JSON string; an empty string means no arguments.
 * Anything else would be re-serialised wrongly by the target, so it is refused with the field's path.
 */
export function parseArguments(args: unknown, param: string): Record<string, unknown> {
  if (isRecord(args)) return args;
  if (args === undefined || (typeof args === 'string' && args.trim() === '')) return {};
  const parsed = typeof args === 'string' ? parseJson(args) : { ok: false as const };
  if (parsed.ok && isRecord(parsed.value)) return parsed.value;
  throw new InvalidRequest(param, 'tool call arguments must be a JSON object');
}
