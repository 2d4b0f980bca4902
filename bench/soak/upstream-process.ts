// The soak's upstreams, in a process of their own: a primary that fails a share of requests (simulated
// faults: 500, 429, a reset before headers, a stream cut mid-answer) and a healthy secondary to fail over
// to. Prints "listening PRIMARY SECONDARY", then one JSON line per batch of faults it injected, naming
// each request by the id in its prompt, so the soak can tell injected faults from anything else.
import { startFakeProvider, type AnswerFields, type Step } from '../../test/fakes/index.ts';

const faultRate = Number(process.argv[2] ?? '0.05');
/** Both upstreams answer streams in 8 deltas 5 ms apart: long enough that streams overlap. */
export const ANSWER: AnswerFields = { chunks: 8, chunkDelayMs: 5 };
const QUEUE_LOW = 2000;
const HARVEST_MS = 250;

const primary = await startFakeProvider({ dialect: 'openai' });
const secondary = await startFakeProvider({ dialect: 'openai', record: false });
primary.setDefault({ kind: 'ok', ...ANSWER });
secondary.setDefault({ kind: 'ok', ...ANSWER });

/** One step for the primary's next request: a fault with probability faultRate, the four kinds alike. */
function nextStep(): Step {
  if (Math.random() >= faultRate) return { kind: 'ok', ...ANSWER };
  const pick = Math.floor(Math.random() * 4);
  if (pick === 0) return { kind: 'status', status: 500 };
  if (pick === 1) return { kind: 'status', status: 429, ...(Math.random() < 0.5 && { retryAfter: '1' }) };
  if (pick === 2) return { kind: 'reset' };
  // After 1..7 of the 8 deltas: a stream already under way (a JSON answer is cut in half).
  return { kind: 'cut-stream', afterChunks: 1 + Math.floor(Math.random() * 7), ...ANSWER };
}

const refill = () => {
  if (primary.pending < QUEUE_LOW) primary.script(Array.from({ length: QUEUE_LOW }, nextStep));
};
refill();
const refiller = setInterval(refill, 100);

/** The soak id in a request's prompt ("soak-123"), or -1. */
function soakId(body: unknown): number {
  const messages = (body as { messages?: { content?: unknown }[] } | undefined)?.messages;
  const text = messages?.at(-1)?.content;
  const m = typeof text === 'string' ? /^soak-(\d+)$/.exec(text) : null;
  return m ? Number(m[1]) : -1;
}

// Records are harvested and dropped as they come, so the primary's memory stays flat too.
const harvester = setInterval(() => {
  const faults: [number, string][] = [];
  for (const r of primary.requests.splice(0))
    if (r.step !== undefined && r.step !== 'ok') faults.push([soakId(r.body), r.step]);
  process.stdout.write(`${JSON.stringify({ faults, served: primary.count })}\n`);
}, HARVEST_MS);

process.stdout.write(`listening ${primary.url} ${secondary.url}\n`);
process.on('SIGTERM', () => {
  clearInterval(refiller);
  clearInterval(harvester);
  void Promise.all([primary.close(), secondary.close()]).then(() => process.exit(0));
});
