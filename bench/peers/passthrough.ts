// The floor: bench/passthrough-process.ts (node:http in, undici pool out, bodies piped untouched) as a
// bench gateway. It has no routing, so it can only be configured with a single target. It runs as plain
// JavaScript with the Node settings Turnout's sidecar gets in a pod (bench/pod-settings.ts), as in the
// sidecar-rss suite: what separates the two is then Turnout's own work, not V8's heap sizing.
import { podSettings } from '../pod-settings.ts';
import { passthroughScript } from '../processes.ts';
import type { Gateway } from './gateway.ts';
import { spawnServer, waitForOutput } from './spawn.ts';

export const passthroughGateway: Gateway = {
  name: 'passthrough',
  singleTargetOnly: true,
  version: () => Promise.resolve(`node:http + undici (Node ${process.version}), pod settings`),
  // Part of this repository: nothing to install.
  ensureInstalled: () => Promise.resolve(),
  async start(routes, options = {}) {
    if (routes.fallbackUrl !== undefined)
      throw new Error('the bare pass-through has no fallback; start it with a single target');
    const env = { ...process.env, ...(await podSettings()).env };
    const server = spawnServer(
      process.execPath,
      ['--no-warnings', await passthroughScript(), `${routes.primaryUrl}/v1`],
      { env, ...(options.cpus !== undefined && { cpus: options.cpus }) },
    );
    const m = await waitForOutput(server, /listening (http:\/\/\S+)/, 'passthrough');
    return { baseUrl: m[1] ?? '', headers: {}, pid: server.pid, stop: () => server.stop() };
  },
};
