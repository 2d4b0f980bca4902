// Shared set-up for sidecar-tier tests: two fake OpenAI upstreams and `turnout dev` processes on
// manifests the test writes.
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';

export interface Harness {
  primary: FakeProvider;
  secondary: FakeProvider;
  run(files: Record<string, string>): Promise<TurnoutProcess>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const primary = await startFakeProvider({ dialect: 'openai' });
  const secondary = await startFakeProvider({ dialect: 'openai' });
  const processes: TurnoutProcess[] = [];
  const dirs: { remove(): Promise<void> }[] = [];
  return {
    primary,
    secondary,
    async run(files) {
      const dir = await configDir(files);
      dirs.push(dir);
      const t = await startTurnout(['dev', '--config', dir.dir, '--listen', '127.0.0.1:0']);
      processes.push(t);
      await t.waitForLine(/loaded snapshot/);
      return t;
    },
    async close() {
      for (const p of processes) await p.stop();
      for (const d of dirs) await d.remove();
      await primary.close();
      await secondary.close();
    },
  };
}

export function chat(url: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
}

export const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;
