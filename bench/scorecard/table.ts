// The scorecard's section of bench/RESULTS.md: scenario × gateway, pass / clean error / fail, with the
// reason wherever a cell is not a pass.
import type { Cell, ScorecardResult } from './run.ts';

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function cellText(c: Cell | undefined): string {
  if (!c) return '—';
  const note = c.noFallback ? ' (no fallback)' : '';
  if (c.grade === 'pass') return `pass${note}`;
  const label = c.grade === 'fail' ? '**fail**' : c.grade === 'not run' ? '_not run_' : 'clean error';
  return `${label}${note}: ${escape(c.reason)}`;
}

export function passCount(r: ScorecardResult, gateway: string): { passed: number; of: number } {
  const cells = r.cells.filter((c) => c.gateway === gateway);
  return { passed: cells.filter((c) => c.grade === 'pass').length, of: r.scenarios.length };
}

export function scorecardMarkdown(r: ScorecardResult): string {
  const names = r.gateways.map((g) => g.name);
  const cell = (scenario: string, gateway: string) =>
    r.cells.find((c) => c.scenario === scenario && c.gateway === gateway);
  const rows = r.scenarios.map(
    (s) => `| ${s.title} | ${escape(s.passes)} | ${names.map((n) => cellText(cell(s.id, n))).join(' | ')} |`,
  );
  const totals = names.map((n) => {
    const { passed, of } = passCount(r, n);
    return `**${passed}/${of}**`;
  });
  const versions = r.gateways.map(
    (g) =>
      `${g.name} ${g.version}${g.error ? ` (not installed: ${escape(g.error.split('\n')[0] ?? '')})` : ''}`,
  );
  return [
    `Each failure class of issue #3 is scripted into fake OpenAI upstreams (simulated providers, \`test/fakes\`), a fresh gateway is started in front of them, and the caller's calls are graded: **pass** (the best outcome the class allows: the complete, correct answer, or for a content-policy refusal the provider's reason unretried, or once part of a stream has been sent an in-band error), **clean error** (an honest error in the OpenAI dialect with a reason, where an answer was possible), **fail** (anything false, garbled, reasonless, hanging past the caller's ${r.deadlineMs / 1000} s deadline, billed twice, or a retried refusal). Rubric and per-class judges: [docs/benchmarks-scorecard.md](../docs/benchmarks-scorecard.md); scenarios: \`bench/scorecard/scenarios.ts\`. Where a scenario makes both a JSON and a streaming call, the worse grade counts. A gateway that cannot have a fallback runs with the primary alone, marked "(no fallback)".`,
    '',
    `Gateways: ${versions.join('; ')}. Each runs with the timeouts, retries and fallback triggers its \`bench/peers/<name>.ts\` configures; one that waits on a silent upstream longer than the caller's deadline fails the silent-upstream classes.`,
    '',
    `| scenario | pass means | ${names.join(' | ')} |`,
    `|---|---|${names.map(() => '---').join('|')}|`,
    ...rows,
    `| **passes** | | ${totals.join(' | ')} |`,
  ].join('\n');
}
