// Issue #7, reliability: the failure classes of issue #3 against Turnout and the peers, each graded
// pass / clean error / fail (bench/scorecard). BENCH_SCORECARD_GATEWAYS=turnout,passthrough picks
// gateways; the default is all four. Timing here is correctness (deadlines), not performance.
import { GATEWAYS, type Gateway } from '../peers/index.ts';
import { runScorecard, type ScorecardResult } from '../scorecard/run.ts';
import { passCount, scorecardMarkdown } from '../scorecard/table.ts';
import { defineSuite } from '../suite.ts';

function selectedGateways(): Gateway[] {
  const names = (process.env.BENCH_SCORECARD_GATEWAYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return [...GATEWAYS];
  const unknown = names.filter((n) => !GATEWAYS.some((g) => g.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown gateway ${unknown.join(', ')}; gateways: ${GATEWAYS.map((g) => g.name).join(', ')}`,
    );
  return GATEWAYS.filter((g) => names.includes(g.name));
}

export const scorecardSuite = defineSuite<ScorecardResult>({
  name: 'scorecard',
  title: 'Reliability scorecard: failure classes against Turnout and the peers (issue #7)',
  run: () => runScorecard(selectedGateways(), { log: (line) => process.stderr.write(`${line}\n`) }),
  markdown: scorecardMarkdown,
  checks: (r) => {
    if (!r.gateways.some((g) => g.name === 'turnout')) return [];
    const { passed, of } = passCount(r, 'turnout');
    return [
      {
        metric: 'reliability scorecard: Turnout passes every failure class (#7)',
        value: `${passed}/${of}`,
        target: `${of}/${of}`,
        pass: passed === of,
      },
    ];
  },
});
