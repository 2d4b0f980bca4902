// Fleet budgets: budgets that hold across every sidecar of a workload (README.md).
export { FleetBudgets } from './fleet-budgets.ts';
export type { FleetBudgetsOptions } from './fleet-budgets.ts';
export { withFleetSpend } from './with-fleet-spend.ts';
export { grantLeases, headroom } from './leases.ts';
export type { LeaseHolder } from './leases.ts';
export { SpendAggregate, totalOf } from './spend-aggregate.ts';
