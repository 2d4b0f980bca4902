// CLI: `node api/crd/generate.ts` writes the CRD YAML into crds/ and charts/turnout/crds/;
// `--check` writes nothing and exits 1 naming every file that differs from what the generator makes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './render.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

async function drifting(files: Map<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const [rel, text] of files) if ((await readOrEmpty(join(ROOT, rel))) !== text) out.push(rel);
  return out;
}

async function write(files: Map<string, string>): Promise<void> {
  for (const [rel, text] of files) {
    const path = join(ROOT, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    console.log(`wrote ${rel}`);
  }
}

async function main(args: readonly string[]): Promise<number> {
  const files = crdFiles();
  if (!args.includes('--check')) {
    await write(files);
    return 0;
  }
  const stale = await drifting(files);
  for (const rel of stale) console.error(`${rel} is out of date: run \`npm run gen:crds\``);
  return stale.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
