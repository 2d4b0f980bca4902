// Set-up for the failover tests: fake OpenAI and Anthropic upstreams plus an OpenAI backup, and a
// `turnout dev --json` process on the manifests a test file writes. Each call names its own model (a
// route matches `prefix-*`), so the JSON decision log line of that very call can be read back.
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';

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

export const SECRET = `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { k: sk-test-failover-0123456789 }
`;

/** A ModelProvider manifest; `extra` is YAML at spec level (timeouts, circuitBreaker). */
export function provider(name: string, type: string, url: string, models: string, extra = ''): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: ${name}, namespace: t }
spec:
  type: ${type}
  endpoint: ${url}
  auth: { secretRef: { name: keys, key: k } }
  ${extra}
  models: ${models}
`;
}

export function policy(routes: string): string {
  return `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
${routes}`;
}

export async function startMesh(manifests: (u: Upstreams) => string[]): Promise<Mesh> {
  const u: Upstreams = {
    oa: await startFakeProvider({ dialect: 'openai' }),
    an: await startFakeProvider({ dialect: 'anthropic' }),
    backup: await startFakeProvider({ dialect: 'openai' }),
  };
  const dir = await configDir({ 'all.yaml': [SECRET, ...manifests(u)].join('---') });
  const t = await startTurnout(['dev', '--config', dir.dir, '--listen', '127.0.0.1:0', '--json']);
  await t.waitForLine(/loaded snapshot/);
  const fakes = [u.oa, u.an, u.backup];
  return {
    ...u,
    t,
    async decision(model) {
      const line = await t.waitForLine(new RegExp(`"requestedModel":"${model}"`));
      return JSON.parse(line) as DecisionJson;
    },
    reset() {
      for (const f of fakes) f.reset();
    },
    async close() {
      await t.stop();
      await dir.remove();
      for (const f of fakes) await f.close();
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
