#!/usr/bin/env node
// The package's bin. A built package runs dist/; a source checkout on Node >= 22.18 runs the
// TypeScript directly (type stripping), so `npx turnout` works in a clone without a build step.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
