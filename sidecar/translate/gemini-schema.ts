// JSON Schema → the OpenAPI 3.0 subset Gemini's `Schema` accepts (function parameters, responseSchema).
// Gemini answers 400 to keywords it does not know, so this keeps an allow-list rather than stripping a
// deny-list, and rewrites the common JSON-Schema idioms it can express:
//   $ref to #/$defs or #/definitions → inlined (recursion cut at MAX_DEPTH)
//   type: [T, "null"] → type T + nullable;  type: [A, B] → anyOf
//   const (string) → enum [const];  a null enum member → nullable;  oneOf → anyOf;  allOf of one → merged
// Everything else is dropped, notably $schema, $id, $defs, additionalProperties, patternProperties,
// unevaluatedProperties, not, if/then/else, exclusiveMinimum/Maximum, examples, non-string enums, and
// formats other than date-time/enum (string), int32/int64 (integer), float/double (number).
import { isRecord, type JsonObject } from './json.ts';

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

const MAX_DEPTH = 16;

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

/** A $ref or a one-member allOf, replaced by what it stands for (converted again: it may nest more). */
function expanded(node: JsonObject, root: JsonObject): JsonObject | undefined {
  const { $ref, allOf, ...rest } = node;
  const target = resolveRef($ref, root);
  if (isRecord(target)) return { ...target, ...rest, ...(allOf !== undefined && { allOf }) };
  if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) return { ...allOf[0], ...rest };
  return undefined;
}

function convert(raw: unknown, root: JsonObject, depth: number): JsonObject {
  if (!isRecord(raw) || depth > MAX_DEPTH) return {};
  const replaced = expanded(raw, root);
  if (replaced !== undefined) return convert(replaced, root, depth + 1);
  const node = raw;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCALAR_KEYWORDS.has(key) && key !== 'type' && value !== undefined) out[key] = value;
  }
  Object.assign(out, typeFields(node.type));
  const format = node.format;
  const allowed = typeof out.type === 'string' ? FORMATS[out.type] : undefined;
  if (typeof format === 'string' && allowed?.includes(format)) out.format = format;
  Object.assign(out, enumFields(node, out.type));
  children(node, root, depth, out);
  return out;
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

function children(node: JsonObject, root: JsonObject, depth: number, out: JsonObject): void {
  if (isRecord(node.properties)) {
    // fromEntries defines own properties, so a property named "__proto__" stays a property.
    const properties: JsonObject = Object.fromEntries(
      Object.entries(node.properties).map(([name, sub]) => [name, convert(sub, root, depth + 1)]),
    );
    out.properties = properties;
    if (Array.isArray(node.required)) {
      out.required = node.required.filter(
        (n): n is string => typeof n === 'string' && Object.hasOwn(properties, n),
      );
    }
  }
  if (isRecord(node.items)) out.items = convert(node.items, root, depth + 1);
  const anyOf = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (Array.isArray(anyOf)) out.anyOf = anyOf.map((sub: unknown) => convert(sub, root, depth + 1));
}

export function geminiSchema(schema: unknown): JsonObject {
  return isRecord(schema) ? convert(schema, schema, 0) : {};
}
