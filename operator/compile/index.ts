export { compile, snapshotFor, selects, byPrecedence } from './compile.ts';
export type { CompileResult, CompiledNamespace, WorkloadSnapshot } from './compile.ts';
export type { CompiledProvider } from './provider.ts';
export { PROVIDER_DEFAULTS, ROUTE_DEFAULTS } from './defaults.ts';
