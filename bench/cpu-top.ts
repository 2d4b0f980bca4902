// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time and the
// most inclusive time, as a share of all samples. Usage: node bench/cpu-top.ts <file-or-dir> [rows]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const target = process.argv[2] ?? '.';
const rows = Number(process.argv[3] ?? 25);
const file = statSync(target).isDirectory()
  ? join(target, readdirSync(target).find((f) => f.endsWith('.cpuprofile')) ?? '')
  : target;
const { nodes } = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
const byId = new Map(nodes.map((n) => [n.id, n]));
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const total = nodes.reduce((sum, n) => sum + n.hitCount, 0);
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const walk = (n: ProfileNode, onStack: ReadonlySet<string>): number => {
  const key = label(n);
  self.set(key, (self.get(key) ?? 0) + n.hitCount);
  const inner = new Set(onStack).add(key);
  let sum = n.hitCount;
  for (const c of n.children ?? []) {
    const child = byId.get(c);
    if (child) sum += walk(child, inner);
  }
  if (!onStack.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + sum); // recursion counted once
  return sum;
};
const root = nodes[0];
if (root) walk(root, new Set());
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows))
    process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
};
print('self', self);
print('inclusive', inclusive);
