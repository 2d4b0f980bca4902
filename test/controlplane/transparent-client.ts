// An unmodified app, as a child process: the `openai` npm client with its default base URL
// (https://api.openai.com/v1), trusting the mesh CA only through the NODE_EXTRA_CA_CERTS the injector
// sets. The one stand-in is the resolver: in a pod, hostAliases send api.openai.com to the sidecar's
// 127.0.0.1:443; here a connector sends it to SIDECAR (host:port), still verifying the certificate
// for the name api.openai.com. Runs for DURATION_MS and prints one JSON summary line.
import OpenAI from 'openai';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

const [host = '127.0.0.1', port = '443'] = (process.env['SIDECAR'] ?? '').split(':');
const durationMs = Number(process.env['DURATION_MS'] ?? '1000');
const base = buildConnector({});

/** "Resolves" api.openai.com to the sidecar; every other name is left as it is. */
const resolver: buildConnector.connector = (opts, cb) =>
  base(
    opts.hostname === 'api.openai.com'
      ? { ...opts, hostname: host, port, servername: 'api.openai.com' }
      : opts,
    cb,
  );

const shared = new Agent({ connect: resolver, keepAliveTimeout: 60_000 });
const client = (dispatcher: Agent) =>
  new OpenAI({
    maxRetries: 0,
    fetch: ((url: string, init: Record<string, unknown>) =>
      undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch,
  });

const summary = {
  ok: 0,
  failed: 0,
  errors: [] as string[],
  routes: {} as Record<string, number>,
  streamed: 0,
};

async function once(i: number): Promise<void> {
  // Most calls reuse one kept-alive connection; every fifth opens a fresh one (a new TLS handshake),
  // so a certificate rotation is met both by connections opened before it and by new ones.
  const fresh = i % 5 === 0 ? new Agent({ connect: resolver }) : undefined;
  const openai = client(fresh ?? shared);
  const messages = [{ role: 'user' as const, content: `call ${i}` }];
  try {
    if (i % 2 === 0) {
      const { data, response } = await openai.chat.completions
        .create({ model: 'gpt-4o', messages })
        .withResponse();
      if (!data.choices[0]?.message.content?.includes(`call ${i}`)) throw new Error('unexpected answer');
      const route = response.headers.get('x-turnout-route') ?? 'none';
      summary.routes[route] = (summary.routes[route] ?? 0) + 1;
    } else {
      const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      if (!text.includes(`call ${i}`)) throw new Error(`unexpected streamed answer: ${text}`);
      summary.streamed++;
    }
    summary.ok++;
  } catch (e) {
    summary.failed++;
    if (summary.errors.length < 5)
      summary.errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  } finally {
    await fresh?.close();
  }
}

const deadline = Date.now() + durationMs;
let next = 0;
const worker = async () => {
  while (Date.now() < deadline) await once(next++);
};
await Promise.all([worker(), worker(), worker()]);
await shared.close();
process.stdout.write(`${JSON.stringify(summary)}\n`);
