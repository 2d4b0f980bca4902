// The two CustomResourceDefinitions, assembled from the zod contract plus what only a CRD can say:
// list-map keys, CEL rules and printer columns.
import type { z } from 'zod';
import { API_GROUP, API_VERSION } from '../common.ts';
import { modelProviderSpec, modelProviderStatus } from '../model-provider.ts';
import { routingPolicySpec, routingPolicyStatus } from '../routing-policy.ts';
import { MODEL_PROVIDER_RULES, ROUTING_POLICY_RULES, type RulesAt } from './cel-rules.ts';
import { MODEL_PROVIDER_COLUMNS, ROUTING_POLICY_COLUMNS, type PrinterColumn } from './printer-columns.ts';
import { schemaAt } from './schema-path.ts';
import { structuralFromZod, type CrdSchema } from './structural.ts';

export interface CrdNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: CrdNames;
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: CrdSchema };
    }[];
  };
}

interface KindDefinition {
  names: CrdNames;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  /** Lists whose items are identified by these keys; the apiserver then refuses duplicates. */
  listMaps: Record<string, string[]>;
  rules: readonly RulesAt[];
  columns: readonly PrinterColumn[];
}

const names = (kind: string, plural: string, shortName: string): CrdNames => ({
  kind,
  listKind: `${kind}List`,
  plural,
  singular: kind.toLowerCase(),
  shortNames: [shortName],
  categories: ['turnout'],
});

// Conditions are keyed by type, as metav1.Condition is, so server-side apply merges them per type.
const CONDITIONS = { 'status.conditions': ['type'] };

const KINDS: readonly KindDefinition[] = [
  {
    names: names('ModelProvider', 'modelproviders', 'mp'),
    description:
      'ModelProvider is an upstream LLM API (or the simulated mock provider) and the models it serves.',
    spec: modelProviderSpec,
    status: modelProviderStatus,
    listMaps: CONDITIONS,
    rules: MODEL_PROVIDER_RULES,
    columns: MODEL_PROVIDER_COLUMNS,
  },
  {
    names: names('RoutingPolicy', 'routingpolicies', 'rp'),
    description:
      'RoutingPolicy selects workloads and says how their LLM requests are routed across providers.',
    spec: routingPolicySpec,
    status: routingPolicyStatus,
    listMaps: { 'spec.routes': ['name'], 'spec.budgets': ['name'], ...CONDITIONS },
    rules: ROUTING_POLICY_RULES,
    columns: ROUTING_POLICY_COLUMNS,
  },
];

export function buildCrds(): CustomResourceDefinition[] {
  return KINDS.map(buildCrd);
}

function buildCrd(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.names.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'turnout' },
    },
    spec: {
      group: API_GROUP,
      names: def.names,
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: objectSchema(def) },
        },
      ],
    },
  };
}

function objectSchema(def: KindDefinition): CrdSchema {
  const root: CrdSchema = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string', description: `${API_GROUP}/${API_VERSION}` },
      kind: { type: 'string', description: def.names.kind },
      // The apiserver validates metadata itself and forbids describing it beyond its type.
      metadata: { type: 'object' },
      spec: described(structuralFromZod(def.spec), `Desired state of the ${def.names.kind}.`),
      status: described(structuralFromZod(def.status), 'Observed state, written by the Turnout operator.'),
    },
    required: ['spec'],
  };
  for (const [path, keys] of Object.entries(def.listMaps)) markListMap(root, path, keys);
  for (const { at, rules } of def.rules) {
    const node = schemaAt(root, at);
    node['x-kubernetes-validations'] = [...(node['x-kubernetes-validations'] ?? []), ...rules];
  }
  return root;
}

/** Description right after type, where `kubectl explain` readers and reviewers look for it. */
const described = (schema: CrdSchema, description: string): CrdSchema => ({
  type: schema.type,
  description,
  ...schema,
});

/** A list-map key must be required in its items, or the apiserver refuses the CRD. */
function markListMap(root: CrdSchema, path: string, keys: string[]): void {
  const list = schemaAt(root, path);
  const missing = keys.filter((k) => !list.items?.required?.includes(k));
  if (missing.length > 0)
    throw new Error(`${path}: list-map keys ${missing.join(', ')} must be required fields of its items`);
  list['x-kubernetes-list-type'] = 'map';
  list['x-kubernetes-list-map-keys'] = keys;
}
