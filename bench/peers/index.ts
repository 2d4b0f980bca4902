// Every gateway the peer benchmarks and the reliability scorecard drive, in table order: the floor
// first, then Turnout, then the peers.
import type { Gateway } from './gateway.ts';
import { litellmGateway } from './litellm.ts';
import { passthroughGateway } from './passthrough.ts';
import { portkeyGateway } from './portkey.ts';
import { turnoutGateway } from './turnout.ts';

export type { Gateway, GatewayRoutes, GatewayStartOptions, RunningGateway } from './gateway.ts';

export const GATEWAYS: readonly Gateway[] = [
  passthroughGateway,
  turnoutGateway,
  portkeyGateway,
  litellmGateway,
];
