// Every suite, in the order `npm run bench` runs them and RESULTS.md lists them.
import type { AnySuite } from '../suite.ts';
import { applyFanoutSuite } from './apply-fanout.ts';
import { compileScaleSuite } from './compile-scale.ts';
import { operatorRssSuite } from './operator-rss.ts';
import { peersSuite } from './peers.ts';
import { proxyOverheadSuite } from './proxy-overhead.ts';
import { pushFanoutSuite } from './push-fanout.ts';
import { routingDecisionSuite } from './routing-decision.ts';
import { scorecardSuite } from './scorecard.ts';
import { sidecarMemoryLimitSuite } from './sidecar-memory-limit.ts';
import { sidecarRssSuite } from './sidecar-rss.ts';
import { streamTtftSuite } from './stream-ttft.ts';
import { tracingOverheadSuite } from './tracing-overhead.ts';

export const SUITES: readonly AnySuite[] = [
  proxyOverheadSuite,
  streamTtftSuite,
  routingDecisionSuite,
  sidecarRssSuite,
  sidecarMemoryLimitSuite,
  compileScaleSuite,
  pushFanoutSuite,
  applyFanoutSuite,
  operatorRssSuite,
  tracingOverheadSuite,
  scorecardSuite,
  peersSuite,
];
