// Every suite, in the order `npm run bench` runs them and RESULTS.md lists them.
import type { AnySuite } from '../suite.ts';
import { compileScaleSuite } from './compile-scale.ts';
import { proxyOverheadSuite } from './proxy-overhead.ts';
import { pushFanoutSuite } from './push-fanout.ts';
import { routingDecisionSuite } from './routing-decision.ts';
import { sidecarRssSuite } from './sidecar-rss.ts';
import { streamTtftSuite } from './stream-ttft.ts';
import { tracingOverheadSuite } from './tracing-overhead.ts';

export const SUITES: readonly AnySuite[] = [
  proxyOverheadSuite,
  streamTtftSuite,
  routingDecisionSuite,
  sidecarRssSuite,
  compileScaleSuite,
  pushFanoutSuite,
  tracingOverheadSuite,
];
