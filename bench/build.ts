// Compiles the product to JavaScript under bench/out/dist (tsconfig.build.json, outDir overridden), so a
// suite can run the sidecar as the package and container image do: plain JS, no type stripping.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { here } from './processes.ts';

export const BUILT_CLI = here('./out/dist/cli/main.js');

/**
 * Resolves with the built CLI's path, or undefined (and why) when tsc emitted nothing usable. A suite
 * may build into its own `outDir`, so suites run at the same time do not delete each other's build.
 */
export async function buildForBench(
  outDir = here('./out/dist'),
): Promise<{ cli: string | undefined; note: string }> {
  const cli = join(outDir, 'cli/main.js');
  await rm(outDir, { recursive: true, force: true });
  const tsc = here('../node_modules/typescript/bin/tsc');
  const output = await new Promise<string>((resolve) =>
    execFile(
      process.execPath,
      [tsc, '-p', here('../tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'],
      { cwd: here('..'), maxBuffer: 16 << 20 },
      (e, stdout, stderr) => resolve(e ? `${stdout}${stderr}`.trim() : ''),
    ),
  );
  if (!existsSync(cli)) return { cli: undefined, note: `tsc emitted no ${cli}: ${output.slice(0, 500)}` };
  return { cli, note: output ? 'tsc reported type errors but emitted JS' : '' };
}
