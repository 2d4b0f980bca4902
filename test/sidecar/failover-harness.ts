// Set-up for the failover tests: fake OpenAI and Anthropic upstreams plus an OpenAI backup, and a
// `turnout dev --json` process on the manifests a test file writes. Each call names its own model (a
// route matches `prefix-*`), so the JSON decision log line of that very call can be read back.
import type { FakeProvider } from '../fakes/index.ts';
import { closeAll, resetAll, startFakeUpstreams } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { startDev, type TurnoutProcess } from '../helpers/turnout-process.ts';

export interface Upstreams {
  oa: FakeProvider;
  an: FakeProvider;
  backup: FakeProvider;
}

export interface Mesh extends Upstreams {
  t: TurnoutProcess;
  /** The decision record of the call that asked for `model`. */
  decision(model: string): Promise<DecisionJson>;
  reset(): void;
  close(): Promise<void>;
}

/** The fields of the JSON decision log these tests read. */
export interface DecisionJson {
  status: number;
  requestedModel: string;
  target?: string;
  errorCode?: string;
  tokens?: { input: number; output: number };
  costUSD?: number;
  attempts: {
    target: string;
    outcome: string;
    status?: number;
    ttftMs?: number;
    tokens?: { input: number; output: number };
    costUSD?: number;
    streamError?: string;
  }[];
}

/** A ModelProvider manifest reading Secret keys/k; `extra` is YAML at spec level (timeouts, circuitBreaker). */
export function provider(name: string, type: string, url: string, models: string, extra = ''): string {
  return manifest.modelProvider({ name, type, endpoint: url, key: 'k', models, extra });
}

export async function startMesh(manifests: (u: Upstreams) => string[]): Promise<Mesh> {
  const u = await startFakeUpstreams({ oa: 'openai', an: 'anthropic', backup: 'openai' });
  const secret = manifest.secret({ k: 'sk-test-failover-0123456789' });
  const t = await startDev({ 'all.yaml': manifest.file(secret, ...manifests(u)) }, { args: ['--json'] });
  return {
    ...u,
    t,
    async decision(model) {
      const line = await t.waitForLine(new RegExp(`"requestedModel":"${model}"`));
      return JSON.parse(line) as DecisionJson;
    },
    reset: () => resetAll(u),
    async close() {
      await t.close();
      await closeAll(u);
    },
  };
}

let sequence = 0;
/** A model name no other call of this process used: `prefix-<n>`. */
export const fresh = (prefix: string) => `${prefix}-${++sequence}`;

export function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
}
