// Shared set-up for sidecar-tier tests: two fake OpenAI upstreams and `turnout dev` processes on
// manifests the test writes.
import { after, before, beforeEach } from 'node:test';
import type { FakeProvider } from '../fakes/index.ts';
import { closeAll, resetAll, startFakeUpstreams } from '../helpers/fake-upstreams.ts';
import { devProcesses, type DevTurnout } from '../helpers/turnout-process.ts';

export interface Harness {
  primary: FakeProvider;
  secondary: FakeProvider;
  /** `turnout dev` on these manifests, once it has loaded them. */
  run(files: Record<string, string>): Promise<DevTurnout>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const { primary, secondary } = await startFakeUpstreams({ primary: 'openai', secondary: 'openai' });
  const processes = devProcesses();
  return {
    primary,
    secondary,
    run: (files) => processes.start(files),
    async close() {
      await processes.closeAll();
      await closeAll({ primary, secondary });
    },
  };
}

/**
 * The harness of a whole test file: started before its first test, the fakes reset before each test,
 * closed after the last. Call it at the top level; its members are there once the tests run. A file's
 * own set-up that needs it goes in `setUp`, run in the same hook: top-level `before` hooks of a file do
 * not wait for each other.
 */
export function sharedHarness(setUp?: (h: Harness) => Promise<void>): Harness {
  let started: Harness | undefined;
  const current = () => {
    if (!started) throw new Error('the shared harness starts in the before hook: use it inside tests');
    return started;
  };
  before(async () => {
    started = await harness();
    await setUp?.(started);
  });
  after(() => started?.close());
  beforeEach(() => resetAll({ primary: current().primary, secondary: current().secondary }));
  return {
    get primary() {
      return current().primary;
    },
    get secondary() {
      return current().secondary;
    },
    run: (files) => current().run(files),
    close: () => current().close(),
  };
}

export function chat(
  url: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hello' }], ...body }),
    signal: signal ?? null,
  });
}

export const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;
