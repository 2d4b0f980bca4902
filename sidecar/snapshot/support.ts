// Policy features this sidecar version accepts in the contract but does not enforce yet. They are
// reported loudly at load time rather than silently ignored, so nobody believes a budget holds when it
// does not.
import type { Snapshot } from '../../api/index.ts';

const UNENFORCED_STRATEGIES = new Set(['least-latency', 'cascade']);

export function unenforcedFeatures(snapshot: Snapshot): string[] {
  const out: string[] = [];
  for (const p of snapshot.policies) {
    if (p.budgets.length > 0) out.push(`policy ${p.name}: budgets are not enforced by this sidecar version`);
    if (p.rateLimits.length > 0)
      out.push(`policy ${p.name}: rateLimits are not enforced by this sidecar version`);
    for (const r of p.routes) {
      const where = `policy ${p.name} route ${r.name}`;
      if (UNENFORCED_STRATEGIES.has(r.strategy))
        out.push(
          `${where}: strategy ${r.strategy} is not implemented yet; targets are tried in listed order`,
        );
      if (r.affinity) out.push(`${where}: affinity is not enforced by this sidecar version`);
      if (r.cache) out.push(`${where}: cache is not enforced by this sidecar version`);
      if (r.shadow) out.push(`${where}: shadow traffic is not sent by this sidecar version`);
    }
  }
  for (const pr of snapshot.providers) {
    const l = pr.limits;
    if (l.requestsPerMinute !== undefined || l.tokensPerMinute !== undefined) {
      out.push(
        `provider ${pr.name}: requestsPerMinute/tokensPerMinute limits are not enforced by this sidecar version (maxConcurrent is)`,
      );
    }
  }
  return out;
}
