export { prepareInjector } from './injector.ts';
export type { Injector, InjectorOptions } from './injector.ts';
export { parseInjectorConfig, loadInjectorConfig, injectorConfig } from './config.ts';
export type { InjectorConfig } from './config.ts';
export { planInjection } from './inject.ts';
export type { InjectionContext, InjectionPlan } from './inject.ts';
export { MUTATE_PATH } from './server.ts';
export * from './pod.ts';
