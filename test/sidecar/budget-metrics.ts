// Reads a budget's spend the way an operator does: from the sidecar's Prometheus /metrics.

/** turnout_budget_used_usd for the budget (and scope, default "policy"); 0 while nothing was spent. */
export async function budgetUsedUSD(url: string, budget: string, scope = 'policy'): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('turnout_budget_used_usd{') &&
        l.includes(`budget="${budget}"`) &&
        l.includes(`scope="${scope}"`),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
