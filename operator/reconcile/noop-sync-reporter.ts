import type { SyncReporter } from '../contract.ts';

/** For an operator without a push server: no sidecar ever reports, so policies stay Programmed=False. */
export const NOOP_SYNC_REPORTER: SyncReporter = {
  sidecars: () => [],
  onChange: () => () => {},
};
