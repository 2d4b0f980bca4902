// JSON Schema → the OpenAPI 3.0 subset Gemini's `Schema` accepts (function parameters, responseSchema).
// Gemini answers 400 to keywords it does not know, so this keeps an allow-list rather than stripping a
// deny-list, and rewrites the common JSON-Schema idioms it can express:
//   $ref to #/$defs or #/definitions → inlined
//   type: [T, "null"] → type T + nullable;  type: [A, B] → anyOf
//   const (string) → enum [const];  a null enum member → nullable;  oneOf → anyOf;  allOf of one → merged
// Everything else is dropped, notably $schema, $id, $defs, additionalProperties, patternProperties,
// unevaluatedProperties, not, if/then/else, exclusiveMinimum/Maximum, examples, non-string enums, and
// formats other than date-time/enum (string), int32/int64 (integer), float/double (number).
//
// Recursion. Gemini's Schema has no references, so a recursive $ref cannot be expressed, and there is no
// "anything" node to put in its place: Gemini rejects an untyped node, an OBJECT without properties and
// an ARRAY without items. So a $ref met again while it is being inlined is CUT: the member that would
// recurse is left out — a property (and its `required` entry), an anyOf branch, an array whose items
// recurse — and a node left with no properties or branches is cut in turn. The model can then write the
// non-recursive part of the value only; what it writes is still valid for the caller's schema (a
// recursion that had to be present could never end). A schema that is nothing but recursion becomes {}.
//
// Size. Inlining shared $defs multiplies (A with 10 properties of B, B with 10 of C, …), so the nodes
// produced inside $refs are counted against one InlineBudget per request; past MAX_INLINED_NODES the
// request is refused for Gemini (UnsupportedParameter) instead of being built.
import { UnsupportedParameter } from './errors.ts';
import { isRecord, own, type JsonObject } from './json.ts';

const SCALAR_KEYWORDS = new Set([
  'type',
  'title',
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minProperties',
  'maxProperties',
  'propertyOrdering',
  'default',
  'example',
]);

const FORMATS: Readonly<Record<string, readonly string[]>> = {
  string: ['date-time', 'enum'],
  integer: ['int32', 'int64'],
  number: ['float', 'double'],
};

/** Deeper than this, a member is left out (Gemini nests far less; this only bounds the recursion). */
const MAX_DEPTH = 32;

/** Nodes inlined from $refs per request, over every schema in it; more is refused, not built. */
export const MAX_INLINED_NODES = 10_000;

/**
 * The nodes $ref inlining may still produce for one request. Shared by all the schemas of a request
 * (tools and responseSchema), so many tools cannot multiply the bound.
 */
export class InlineBudget {
  #left = MAX_INLINED_NODES;

  spend(param: string): void {
    if (--this.#left >= 0) return;
    throw new UnsupportedParameter(
      param,
      'Gemini',
      `inlining its $refs would produce more than ${MAX_INLINED_NODES} schema nodes (Gemini schemas have no references)`,
    );
  }
}

interface Walk {
  root: JsonObject;
  /** The $refs being inlined on the current path: meeting one again is recursion. */
  expanding: Set<string>;
  budget: InlineBudget;
  param: string;
}

function resolveRef(ref: unknown, root: JsonObject): unknown {
  if (typeof ref !== 'string') return undefined;
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  const defs = match ? root[match[1] ?? ''] : undefined;
  const name = match?.[2];
  return isRecord(defs) && name !== undefined && Object.hasOwn(defs, name) ? defs[name] : undefined;
}

/** `type` (maybe an array) → the fields Gemini can hold, before the other keywords are copied. */
function typeFields(type: unknown): JsonObject {
  if (!Array.isArray(type)) return typeof type === 'string' ? { type } : {};
  const types = type.filter((t): t is string => typeof t === 'string' && t !== 'null');
  const nullable = types.length < type.length ? { nullable: true } : {};
  if (types.length === 1) return { type: types[0], ...nullable };
  return { anyOf: types.map((t) => ({ type: t })), ...nullable };
}

/** A single-member allOf, replaced by its member (converted again: it may nest more). */
function mergedAllOf(node: JsonObject): JsonObject | undefined {
  const { allOf, ...rest } = node;
  if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) return { ...allOf[0], ...rest };
  return undefined;
}

/** The Gemini form of a subschema, or CUT when it cannot be expressed (its member is left out). */
type Converted = JsonObject | typeof CUT;
const CUT = undefined;

function convert(raw: unknown, walk: Walk, depth: number): Converted {
  if (!isRecord(raw)) return {};
  if (depth > MAX_DEPTH) return CUT;
  const ref = typeof raw.$ref === 'string' ? raw.$ref : undefined;
  const target = resolveRef(ref, walk.root);
  if (ref !== undefined && isRecord(target)) {
    if (walk.expanding.has(ref)) return CUT; // recursion: Gemini has no way to say "a Node again"
    const { $ref: _ref, ...rest } = raw;
    walk.expanding.add(ref);
    const out = convert({ ...target, ...rest }, walk, depth + 1);
    walk.expanding.delete(ref);
    return out;
  }
  const merged = mergedAllOf(raw);
  if (merged !== undefined) return convert(merged, walk, depth + 1);
  if (walk.expanding.size > 0) walk.budget.spend(walk.param);
  const node = raw;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCALAR_KEYWORDS.has(key) && key !== 'type' && value !== undefined) out[key] = value;
  }
  Object.assign(out, typeFields(node.type));
  const format = node.format;
  const allowed = own(FORMATS, out.type);
  if (typeof format === 'string' && allowed?.includes(format)) out.format = format;
  Object.assign(out, enumFields(node, out.type));
  return children(node, walk, depth, out);
}

/** Gemini enums are string-only; a null member becomes nullable, and a bare enum/const gets its type. */
function enumFields(node: JsonObject, type: unknown): JsonObject {
  const values: unknown = node.const !== undefined ? [node.const] : node.enum;
  if (!Array.isArray(values)) return {};
  const members = values.filter((v) => v !== null);
  if (members.length === 0 || !members.every((v) => typeof v === 'string')) return {};
  return {
    enum: members,
    ...(type === undefined && { type: 'string' }),
    ...(members.length < values.length && { nullable: true }),
  };
}

/**
 * properties, items and anyOf, converted. A cut property or anyOf branch is left out; a node whose
 * items, or all of whose properties or branches, are cut is cut too (Gemini rejects an OBJECT without
 * properties and an ARRAY without items).
 */
function children(node: JsonObject, walk: Walk, depth: number, out: JsonObject): Converted {
  if (isRecord(node.properties)) {
    const entries = Object.entries(node.properties);
    const kept = entries.flatMap(([name, sub]): [string, JsonObject][] => {
      const converted = convert(sub, walk, depth + 1);
      return converted === CUT ? [] : [[name, converted]];
    });
    if (entries.length > 0 && kept.length === 0) return CUT;
    // fromEntries defines own properties, so a property named "__proto__" stays a property.
    const properties: JsonObject = Object.fromEntries(kept);
    out.properties = properties;
    if (Array.isArray(node.required)) {
      out.required = node.required.filter(
        (n): n is string => typeof n === 'string' && Object.hasOwn(properties, n),
      );
    }
  }
  if (isRecord(node.items)) {
    const items = convert(node.items, walk, depth + 1);
    if (items === CUT) return CUT;
    out.items = items;
  }
  const anyOf = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (Array.isArray(anyOf)) {
    const branches = anyOf.flatMap((sub: unknown) => convert(sub, walk, depth + 1) ?? []);
    if (anyOf.length > 0 && branches.length === 0) return CUT;
    out.anyOf = branches;
  }
  return out;
}

export interface GeminiSchemaOptions {
  /** The request field the schema came from, named when it is refused. */
  param?: string | undefined;
  /** Shared by the schemas of one request; a fresh one per call by default. */
  budget?: InlineBudget | undefined;
}

/**
 * Throws UnsupportedParameter when inlining $refs would exceed MAX_INLINED_NODES. A schema that is
 * cut entirely (only recursion) becomes {}.
 */
export function geminiSchema(schema: unknown, options: GeminiSchemaOptions = {}): JsonObject {
  if (!isRecord(schema)) return {};
  const walk: Walk = {
    root: schema,
    expanding: new Set(),
    budget: options.budget ?? new InlineBudget(),
    param: options.param ?? 'schema',
  };
  return convert(schema, walk, 0) ?? {};
}
