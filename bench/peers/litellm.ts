// The LiteLLM proxy (PyPI litellm[proxy]) as a bench gateway, installed into a venv under
// ~/.cache/turnout/peers and configured with its native config.yaml: the route's model served by the
// primary fake (openai/… with api_base), and for fallback a second deployment on the fallback fake named
// in router_settings.fallbacks. Run as its production guide says for Kubernetes: one uvicorn worker
// (--num_workers 1, the process is pinned to one core anyway), a master key, set_verbose off and
// LITELLM_LOG=ERROR; no database, Redis or callbacks, which it does not turn on by default either.
//
// Pinned to 1.102.4: 1.103.x and later require certifi >= 2026.10.19, which the registry here does not have.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { Gateway, GatewayRoutes } from './gateway.ts';
import { freePort, spawnServer, waitForPort } from './spawn.ts';

export const LITELLM_VERSION = '1.102.4';
const ROOT = join(homedir(), '.cache', 'turnout', 'peers', `litellm-${LITELLM_VERSION}`);
const VENV = join(ROOT, 'venv');
const PYTHON = join(VENV, 'bin', 'python');
const LITELLM = join(VENV, 'bin', 'litellm');
const MASTER_KEY = 'sk-bench-master';
const run = promisify(execFile);

export function litellmConfig(routes: GatewayRoutes): Record<string, unknown> {
  // The same budget Turnout gets in bench/peers/turnout.ts: 4 s per non-stream attempt, 2 s to a stream's
  // first chunk, 2 retries — so a silent upstream is abandoned by every gateway alike.
  const deployment = (modelName: string, url: string) => ({
    model_name: modelName,
    litellm_params: {
      model: `openai/${routes.model}`,
      api_base: `${url}/v1`,
      api_key: 'sk-bench',
      timeout: 4,
      stream_timeout: 2,
    },
  });
  const fallbackName = `${routes.model}-fallback`;
  const models = [deployment(routes.model, routes.primaryUrl)];
  if (routes.fallbackUrl !== undefined) models.push(deployment(fallbackName, routes.fallbackUrl));
  return {
    model_list: models,
    router_settings: {
      num_retries: 2,
      ...(routes.fallbackUrl !== undefined && { fallbacks: [{ [routes.model]: [fallbackName] }] }),
    },
    litellm_settings: { set_verbose: false, json_logs: true },
    general_settings: { master_key: MASTER_KEY },
  };
}

function failWith(step: string, e: unknown): never {
  const err = e as { stderr?: string; stdout?: string; message: string };
  throw new Error(`${step} failed: ${(err.stderr ?? '') + (err.stdout ?? '') || err.message}`, { cause: e });
}

export const litellmGateway: Gateway = {
  name: 'litellm',
  async version() {
    const { stdout } = await run(PYTHON, [
      '-c',
      'import importlib.metadata as m; print(m.version("litellm"))',
    ]);
    return stdout.trim();
  },
  async ensureInstalled() {
    if (existsSync(LITELLM)) return;
    await mkdir(ROOT, { recursive: true });
    await run('python3', ['-m', 'venv', VENV]).catch((e: unknown) => failWith(`python3 -m venv ${VENV}`, e));
    const spec = `litellm[proxy]==${LITELLM_VERSION}`;
    await run(join(VENV, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', spec], {
      maxBuffer: 64 << 20,
    }).catch((e: unknown) => failWith(`pip install '${spec}' (venv ${VENV})`, e));
    if (!existsSync(LITELLM)) throw new Error(`pip install succeeded but ${LITELLM} is missing`);
  },
  async start(routes, options = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'turnout-litellm-'));
    const config = join(dir, 'config.yaml');
    await writeFile(config, stringify(litellmConfig(routes)));
    const port = await freePort();
    const args = ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'];
    const server = spawnServer(LITELLM, args, {
      // LITELLM_LOCAL_MODEL_COST_MAP: use the bundled price list instead of fetching it at start (no network here).
      env: { ...process.env, LITELLM_LOG: 'ERROR', LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
      cwd: dir,
      ...(options.cpus !== undefined && { cpus: options.cpus }),
    });
    try {
      await waitForPort(server, port, 'litellm', 180_000);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      baseUrl: `http://127.0.0.1:${port}/v1`,
      headers: { authorization: `Bearer ${MASTER_KEY}` },
      pid: server.pid,
      async stop() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
