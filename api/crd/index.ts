export { buildCrds } from './crds.ts';
export type { CrdNames, CustomResourceDefinition } from './crds.ts';
export { CRD_DIRS, GENERATED_HEADER, crdFileName, crdFiles, renderCrdYaml } from './render.ts';
export {
  MODEL_PROVIDER_RULES,
  ROUTING_POLICY_RULES,
  celEndpointHostUrlPattern,
  celPlaintextUrlPattern,
  celString,
} from './cel-rules.ts';
export type { RulesAt } from './cel-rules.ts';
export { MODEL_PROVIDER_COLUMNS, ROUTING_POLICY_COLUMNS } from './printer-columns.ts';
export type { PrinterColumn } from './printer-columns.ts';
export { schemaAt } from './schema-path.ts';
export { structuralFromZod, toStructural } from './structural.ts';
export type { CelValidation, CrdSchema } from './structural.ts';
