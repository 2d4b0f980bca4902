// Policy features this sidecar version accepts in the contract but does not enforce yet. They are
// reported loudly at load time rather than silently ignored, so nobody believes a feature works when it
// does not.
import type { Snapshot } from '../../api/index.ts';

export function unenforcedFeatures(snapshot: Snapshot): string[] {
  const out: string[] = [];
  for (const p of snapshot.policies) {
    for (const r of p.routes) {
      const where = `policy ${p.name} route ${r.name}`;
      if (r.strategy === 'cascade')
        out.push(
          `${where}: cascade acceptance checks are not implemented yet; targets are tried cheapest first without them`,
        );
    }
  }
  return out;
}
