// Turns zod's JSON Schema (OpenAPI 3.0 flavour) into a Kubernetes *structural* schema: every node typed,
// no anyOf/oneOf/$ref, maps as additionalProperties, free-form JSON as x-kubernetes-preserve-unknown-fields.
// Anything this module does not recognise is an error, so a new zod feature can never slip an invalid
// keyword into the CRD unnoticed; the apiserver would refuse the whole CRD.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
import { z } from 'zod';

/** One node of an apiextensions.k8s.io/v1 JSONSchemaProps, as far as Turnout uses it. */
export interface CrdSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, CrdSchema>;
  items?: CrdSchema;
  additionalProperties?: CrdSchema;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: CelValidation[];
}

/** One x-kubernetes-validations entry. */
export interface CelValidation {
  rule: string;
  message: string;
  /** Relative JSON path (".endpoint") the error is reported at, instead of the node holding the rule. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

type JsonNode = Record<string, unknown>;

/** Keywords copied as they are: all are valid JSONSchemaProps and carry the contract's bounds. */
const COPIED = [
  'description',
  'default',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'nullable',
] as const;

/** Keywords handled by dedicated code below, or dropped on purpose. */
const HANDLED = new Set([
  'type',
  'format',
  'required',
  'properties',
  'items',
  'additionalProperties',
  '$schema',
  'propertyNames',
]);

/** Formats the apiserver knows; zod's "uri" is left out because a CEL rule checks URLs with a clearer message. */
const KEPT_FORMATS = new Set(['date-time', 'date', 'int32', 'int64', 'float', 'double', 'byte']);

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/** Converts a zod schema into a structural CRD schema, validating the shape the apiserver expects. */
export function structuralFromZod(schema: z.ZodType): CrdSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'throw' });
  return toStructural(json, '');
}

export function toStructural(node: JsonNode, path: string): CrdSchema {
  rejectUnknownKeywords(node, path);
  if (isFreeForm(node)) return freeForm(node);
  const out: CrdSchema = { type: typeOf(node, path) };
  copyKeywords(node, out);
  dropJsBounds(out);
  keepFormat(node, out);
  boundEnum(out);
  if (out.type === 'object') convertObject(node, out, path);
  if (out.type === 'array') out.items = toStructural(asNode(node.items, `${path}.items`), `${path}[]`);
  return out;
}

function rejectUnknownKeywords(node: JsonNode, path: string): void {
  for (const key of Object.keys(node)) {
    if (!HANDLED.has(key) && !(COPIED as readonly string[]).includes(key)) {
      throw new Error(`${path || '<root>'}: JSON Schema keyword "${key}" has no structural CRD equivalent`);
    }
  }
}

/** `z.unknown()` becomes `{}`: any JSON goes, so the apiserver must keep it rather than prune it. */
function isFreeForm(node: JsonNode): boolean {
  return node.type === undefined && node.properties === undefined && node.items === undefined;
}

function freeForm(node: JsonNode): CrdSchema {
  const out: CrdSchema = {};
  if (typeof node.description === 'string') out.description = node.description;
  out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

function typeOf(node: JsonNode, path: string): NonNullable<CrdSchema['type']> {
  const type = node.type;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new Error(`${path || '<root>'}: a structural schema needs one type, got ${JSON.stringify(type)}`);
  }
  return type as NonNullable<CrdSchema['type']>;
}

function copyKeywords(node: JsonNode, out: CrdSchema): void {
  const target = out as Record<string, unknown>;
  for (const key of COPIED) if (node[key] !== undefined) target[key] = node[key];
}

/** zod states JavaScript's safe-integer range on every int(); it is an artefact, not part of the contract. */
function dropJsBounds(out: CrdSchema): void {
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
}

function keepFormat(node: JsonNode, out: CrdSchema): void {
  if (typeof node.format === 'string' && KEPT_FORMATS.has(node.format)) out.format = node.format;
}

/** An enum bounds the length anyway; saying so lets CEL cost estimation see the bound too. */
function boundEnum(out: CrdSchema): void {
  if (out.type !== 'string' || !out.enum || out.maxLength !== undefined) return;
  out.maxLength = Math.max(...out.enum.map((v) => String(v).length));
}

function convertObject(node: JsonNode, out: CrdSchema, path: string): void {
  const properties = node.properties as Record<string, JsonNode> | undefined;
  const extra = node.additionalProperties;
  if (properties !== undefined && extra !== undefined && extra !== false) {
    throw new Error(`${path || '<root>'}: an object cannot have both properties and additionalProperties`);
  }
  if (properties !== undefined) {
    out.properties = {};
    for (const [name, child] of Object.entries(properties)) {
      out.properties[name] = toStructural(child, path ? `${path}.${name}` : name);
    }
  }
  if (Array.isArray(node.required) && node.required.length > 0)
    out.required = [...(node.required as string[])];
  if (extra === true || (isObject(extra) && isFreeForm(extra))) {
    // A record of unknown values (e.g. cascade.accept.jsonSchema) is arbitrary user JSON.
    out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (isObject(extra)) {
    out.additionalProperties = toStructural(extra, `${path}.*`);
  }
}

function asNode(value: unknown, path: string): JsonNode {
  if (!isObject(value)) throw new Error(`${path}: an array needs a single items schema`);
  return value;
}

function isObject(value: unknown): value is JsonNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
