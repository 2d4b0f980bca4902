// `kubectl get rp,mp` columns. Priority 0 shows by default; 1 only with `-o wide`. The default view
// answers "is it live?" (Programmed, Synced/Selected, Ready); detail that explains why goes wide.
// A JSONPath that yields several values prints only the first, so list columns name one element.

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation',
};

export const ROUTING_POLICY_COLUMNS: readonly PrinterColumn[] = [
  {
    name: 'Strategy',
    type: 'string',
    jsonPath: '.spec.routes[0].strategy',
    description: 'Strategy of the first route (empty means priority)',
  },
  {
    name: 'Default',
    type: 'string',
    jsonPath: '.spec.defaultRoute',
    description: 'Route for requests no route matches',
    priority: 1,
  },
  {
    name: 'Synced',
    type: 'integer',
    jsonPath: '.status.sidecars.synced',
    description: 'Selected sidecars running this generation',
  },
  {
    name: 'Selected',
    type: 'integer',
    jsonPath: '.status.sidecars.selected',
    description: 'Sidecars this policy applies to',
  },
  {
    name: 'Accepted',
    type: 'string',
    jsonPath: condition('Accepted'),
    description: 'The operator validated and compiled the policy',
    priority: 1,
  },
  {
    name: 'Programmed',
    type: 'string',
    jsonPath: condition('Programmed'),
    description: 'Every selected sidecar acknowledged this generation',
  },
  {
    name: 'Spend',
    type: 'string',
    jsonPath: '.status.spend[0].usedUSD',
    description: 'USD used in the current window of the first budget',
    priority: 1,
  },
  AGE,
];

export const MODEL_PROVIDER_COLUMNS: readonly PrinterColumn[] = [
  { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Provider API (mock is simulated)' },
  {
    name: 'Endpoint',
    type: 'string',
    jsonPath: '.spec.endpoint',
    description: 'Base URL of the upstream API',
  },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: condition('Ready'),
    description: 'Credentials resolved and models valid',
  },
  AGE,
];
