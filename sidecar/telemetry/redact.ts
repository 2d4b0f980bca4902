// Keeps credentials out of everything Turnout writes about a call: decision logs, span attributes and
// events, and the error bodies it returns. Two nets: the exact API keys of the loaded snapshots (an
// upstream that echoes the key it was sent, a URL with ?key= in an error), and the shapes common provider
// keys and bearer tokens take, for keys Turnout never held (a caller's own, pasted into a prompt).
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';

export const REDACTED = '[REDACTED]';

const SHAPES: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI, Anthropic (sk-ant-…), most OpenAI-compatible gateways
  /\bAIza[0-9A-Za-z_-]{20,}/g, // Google API keys
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(api[-_]?key|x-api-key|x-goog-api-key|key)=[^&\s"']{8,}/gi,
];
const QUICK = /sk-|AIza|Bearer|Basic|key=/i;
const BACKSLASH = 0x5c;

/** Secrets shorter than this are not matched verbatim: replacing every "abc" would mangle the text. */
const MIN_SECRET = 8;

export class SecretRedactor {
  /** The keys of the current snapshot and the one before, so calls that began before a reload are covered. */
  #current: string[] = [];
  #previous: string[] = [];

  /** Follows snapshot loads (SnapshotStore.onLoad). */
  update(runtime: RuntimeSnapshot): void {
    this.useKeys([...runtime.providers.values()].map((p) => p.apiKey));
  }

  /** Follows a new set of API keys (the operator's, per namespace, which has no RuntimeSnapshot). */
  useKeys(apiKeys: Iterable<string | undefined>): void {
    const keys = new Set<string>();
    for (const k of apiKeys) if (k && k.length >= MIN_SECRET) keys.add(k);
    this.#previous = this.#current;
    // Longest first: a key that contains another is replaced whole.
    this.#current = [...keys].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#current) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    for (const secret of this.#previous) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    if (!QUICK.test(out)) return out;
    for (const shape of SHAPES) out = out.replace(shape, REDACTED);
    return out;
  }

  /**
   * JSON text a caller will parse (an error body, an SSE event's data). JSON may spell a key with escapes
   * (`\u0073k-…`) that only the parser turns back into the key, so text holding a backslash is also
   * checked parsed and re-serialised; when that form holds a secret, the redacted re-serialisation is
   * returned. Text that is not JSON is redacted as text.
   */
  redactJson(text: string): string {
    if (!text.includes('\\')) return this.redact(text);
    let plain: string;
    try {
      plain = JSON.stringify(JSON.parse(text));
    } catch {
      return this.redact(text);
    }
    const clean = this.redact(plain);
    return clean === plain ? this.redact(text) : clean;
  }

  /** Bytes that are returned as they are unless they hold a secret, plain or JSON-escaped (upstream error bodies). */
  redactBytes(bytes: Buffer): Buffer {
    if (bytes.includes(BACKSLASH)) {
      const text = bytes.toString('utf8');
      const clean = this.redactJson(text);
      return clean === text ? bytes : Buffer.from(clean);
    }
    if (!this.#holdsSecret(bytes)) return bytes;
    return Buffer.from(this.redact(bytes.toString('utf8')));
  }

  #holdsSecret(bytes: Buffer): boolean {
    for (const secret of this.#current) if (bytes.includes(secret)) return true;
    for (const secret of this.#previous) if (bytes.includes(secret)) return true;
    return QUICK.test(bytes.toString('latin1'));
  }
}
