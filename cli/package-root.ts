import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory, found from this module whether it runs from source (cli/) or from the
 * build (dist/cli/), so bundled files such as examples/ resolve the same way in both.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the turnout package root');
    dir = parent;
  }
  return dir;
}
