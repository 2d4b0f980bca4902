// A suite with no record in bench/out (not committed, so absent on a fresh checkout) keeps what the
// committed RESULTS.md says of it: its rows of the targets table and its section, which carries its own
// run date and command. Refreshing some suites then never silently drops the others' recorded results.
import { readFile } from 'node:fs/promises';
import type { AnySuite } from './suite.ts';

export interface CarriedSuite {
  /** Its rows of the targets table, as written. */
  rows: string[];
  /** Its whole section, from its heading to the next one. */
  section: string;
  /** The day it was run (from the section's "run YYYY-MM-DD …"), if said. */
  date?: string;
  /** The command it was run with, if said. */
  command?: string;
}

export async function readPrevious(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** What `previous` (a RESULTS.md) recorded for `suite`, or undefined when it has no section for it. */
export function carried(previous: string, suite: AnySuite): CarriedSuite | undefined {
  const heading = `## ${suite.title}\n`;
  const start = previous.indexOf(heading);
  if (start < 0) return undefined;
  const next = previous.indexOf('\n## ', start + heading.length);
  const section = previous.slice(start, next < 0 ? undefined : next).trimEnd();
  if (section.includes('no result recorded yet')) return undefined;
  const rows = previous.split('\n').filter((line) => line.startsWith(`| ${suite.name} |`));
  const date = /, run (\d{4}-\d{2}-\d{2}) /.exec(section)?.[1];
  const command = /, run [^`]* with `([^`]+)`/.exec(section)?.[1];
  return { rows, section, ...(date !== undefined && { date }), ...(command !== undefined && { command }) };
}
