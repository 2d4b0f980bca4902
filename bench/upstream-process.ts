// A fake OpenAI upstream in its own process, so the load generator and proxies do not share its event loop.
// An optional JSON argument is the default step, e.g. '{"kind":"ok","chunks":20,"chunkDelayMs":1}'.
import { startFakeProvider, type Step } from '../test/fakes/index.ts';

const fake = await startFakeProvider({ dialect: 'openai', record: false });
if (process.argv[2]) fake.setDefault(JSON.parse(process.argv[2]) as Step);
process.stdout.write(`listening ${fake.url}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
