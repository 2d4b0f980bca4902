// The Portkey AI gateway (npm @portkey-ai/gateway, open source) as a bench gateway, installed under
// ~/.cache/turnout/peers and run as its Docker image does: `node build/start-server.js` with
// NODE_ENV=production, plus --headless (no log-viewer UI). Routes travel per request in its native
// x-portkey-config header: an openai target whose custom_host is the fake, and for fallback the
// `fallback` strategy over two targets.
//
// Runtime: Portkey's image is node:20-alpine. On Node 24 its fallback path throws ("TypeError:
// immutable": it appends headers to a fetch Response whose headers are immutable) and answers 500
// instead of failing over, so it runs on a Node 20 binary when one is found (PORTKEY_NODE, else
// /usr/bin/node if it is v20). Its streaming answers 500 with the same TypeError on Node 20 and 24
// alike (upstream issues #1389 and #1550 describe this class of failure); the suite reports that.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Gateway, GatewayRoutes } from './gateway.ts';
import { freePort, spawnServer, waitForPort } from './spawn.ts';

export const PORTKEY_VERSION = '1.15.2';
const PREFIX = join(homedir(), '.cache', 'turnout', 'peers', `portkey-${PORTKEY_VERSION}`);
const PACKAGE_DIR = join(PREFIX, 'node_modules', '@portkey-ai', 'gateway');
const SERVER = join(PACKAGE_DIR, 'build', 'start-server.js');
const run = promisify(execFile);

/** Upstream statuses that move on to the next target, as for the other gateways (connection errors always do). */
const FAILOVER_STATUSES = [429, 500, 502, 503, 504];

async function nodeFor(): Promise<{ path: string; version: string }> {
  const candidates = [process.env.PORTKEY_NODE, '/usr/bin/node'].filter(
    (p): p is string => p !== undefined && p !== '' && existsSync(p),
  );
  for (const path of candidates) {
    const { stdout } = await run(path, ['--version']);
    const version = stdout.trim();
    if (path === process.env.PORTKEY_NODE || version.startsWith('v20.')) return { path, version };
  }
  return { path: process.execPath, version: process.version };
}

export function portkeyConfig(routes: GatewayRoutes): Record<string, unknown> {
  // The same budget Turnout gets in bench/peers/turnout.ts: 4 s per attempt, 2 retries on the statuses
  // that fail over — so a silent or failing upstream is treated alike by every gateway.
  const target = (url: string) => ({
    provider: 'openai',
    api_key: 'sk-bench',
    custom_host: `${url}/v1`,
    request_timeout: 4000,
    retry: { attempts: 2, on_status_codes: FAILOVER_STATUSES },
  });
  if (routes.fallbackUrl === undefined) return target(routes.primaryUrl);
  return {
    strategy: { mode: 'fallback', on_status_codes: FAILOVER_STATUSES },
    targets: [target(routes.primaryUrl), target(routes.fallbackUrl)],
  };
}

export const portkeyGateway: Gateway = {
  name: 'portkey',
  async version() {
    const pkg = JSON.parse(await readFile(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
    return `${pkg.version} (Node ${(await nodeFor()).version})`;
  },
  async ensureInstalled() {
    if (existsSync(SERVER)) return;
    await mkdir(PREFIX, { recursive: true });
    // --ignore-scripts: its only script is patch-package for patches its published package does not ship.
    const args = ['install', '--prefix', PREFIX, '--no-audit', '--no-fund', '--ignore-scripts'];
    try {
      await run('npm', [...args, `@portkey-ai/gateway@${PORTKEY_VERSION}`], { maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `npm ${args.join(' ')} @portkey-ai/gateway@${PORTKEY_VERSION} failed: ${err.stderr ?? err.message}`,
        { cause: e },
      );
    }
    if (!existsSync(SERVER)) throw new Error(`npm install succeeded but ${SERVER} is missing`);
  },
  async start(routes, options = {}) {
    const port = await freePort();
    const node = await nodeFor();
    const server = spawnServer(node.path, [SERVER, `--port=${port}`, '--headless'], {
      env: { ...process.env, NODE_ENV: 'production' },
      cwd: PACKAGE_DIR,
      ...(options.cpus !== undefined && { cpus: options.cpus }),
    });
    await waitForPort(server, port, 'portkey');
    return {
      baseUrl: `http://127.0.0.1:${port}/v1`,
      headers: { 'x-portkey-config': JSON.stringify(portkeyConfig(routes)) },
      pid: server.pid,
      stop: () => server.stop(),
    };
  },
};
