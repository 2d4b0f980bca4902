// The floor: bench/passthrough-process.ts (node:http in, undici pool out, bodies piped untouched) as a
// bench gateway. It has no routing, so it can only be configured with a single target.
import { here } from '../processes.ts';
import type { Gateway } from './gateway.ts';
import { spawnServer, waitForOutput } from './spawn.ts';

export const passthroughGateway: Gateway = {
  name: 'passthrough',
  singleTargetOnly: true,
  version: () => Promise.resolve(`node:http + undici (Node ${process.version})`),
  // Part of this repository: nothing to install.
  ensureInstalled: () => Promise.resolve(),
  async start(routes, options = {}) {
    if (routes.fallbackUrl !== undefined)
      throw new Error('the bare pass-through has no fallback; start it with a single target');
    const server = spawnServer(
      process.execPath,
      [here('./passthrough-process.ts'), `${routes.primaryUrl}/v1`],
      options.cpus === undefined ? {} : { cpus: options.cpus },
    );
    const m = await waitForOutput(server, /listening (http:\/\/\S+)/, 'passthrough');
    return { baseUrl: m[1] ?? '', headers: {}, pid: server.pid, stop: () => server.stop() };
  },
};
