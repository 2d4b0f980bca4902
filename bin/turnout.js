#!/usr/bin/env node
// The package's bin. A built package runs dist/; a source checkout on Node >= 22.18 runs the
// TypeScript directly (type stripping), so `npx turnout` works in a clone without a build step.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `turnout needs Node.js >= 22 (this is ${process.version}). In a checkout, run it through npm ` +
      '(npm run turnout -- <command>), which fetches Node 24 when needed, or put Node 24 first on PATH.',
  );
  process.exit(1);
}
const built = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
