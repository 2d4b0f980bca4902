// A fake OpenAI upstream in its own process, so the load generator and proxies do not share its event loop.
import { startFakeProvider } from '../test/fakes/index.ts';

const fake = await startFakeProvider({ dialect: 'openai', record: false });
process.stdout.write(`listening ${fake.url}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
