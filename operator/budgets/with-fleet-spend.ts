// The reconciler reads sidecar sync state and fleet spend through one SyncReporter: status passes run
// when either changes, and StatusSync finds the spend to persist in `fleetSpend`.
import type { SyncReporter } from '../contract.ts';
import type { FleetBudgets } from './fleet-budgets.ts';

export function withFleetSpend(sync: SyncReporter, fleet: FleetBudgets): SyncReporter {
  return {
    sidecars: (namespace) => sync.sidecars(namespace),
    onChange: (listener) => {
      const offSync = sync.onChange(listener);
      const offSpend = fleet.onStatusDue(listener);
      return () => {
        offSync();
        offSpend();
      };
    },
    fleetSpend: fleet,
  };
}
