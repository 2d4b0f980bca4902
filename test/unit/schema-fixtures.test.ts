// Table-driven checks of the manifest fixtures in test/fixtures/manifests/:
//   valid/    parse with no diagnostics, compile without errors, use only fields the CRD declares (the
//             apiserver would prune or refuse others) and, together, use every spec field the CRDs have;
//   invalid/  one mistake each; the header says where it is reported and what the message says:
//               # expect-stage: parse | compile   (default parse: parseManifests; compile: the compiler)
//               # expect-path: spec.routes[0].strategy
//               # expect-message: strategy must be one of      (substring)
//               # expect-apiserver: spec.routes[0].strategy: Unsupported value   (substring of kube-apiserver's
//                 error, read by the control-plane tests that apply these files to a real apiserver)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildCrds, type CrdSchema } from '../../api/crd/index.ts';
import { parseManifests, type Diagnostic, type ParsedManifests } from '../../api/manifests.ts';
import { compile } from '../../operator/compile/index.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));

interface Fixture {
  file: string;
  text: string;
  headers: Map<string, string>;
}

function loadFixtures(dir: string): Fixture[] {
  const path = join(FIXTURES, dir);
  return readdirSync(path)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(path, file), 'utf8');
      return { file: `${dir}/${file}`, text, headers: readHeaders(text) };
    });
}

/** `# key: value` lines in the leading comment block. */
function readHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^#\s*(expect-[a-z-]+):\s*(.+?)\s*$/.exec(line);
    if (m?.[1] && m[2]) headers.set(m[1], m[2]);
  }
  return headers;
}

const parse = (f: Fixture): ParsedManifests => parseManifests(f.text, f.file, 'team-a');

const compileErrors = (m: ParsedManifests): Diagnostic[] =>
  compile(m.providers, m.policies, m.secrets).diagnostics.filter((d) => d.severity === 'error');

const show = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.path}: ${d.message}`).join('\n  ') || '(none)';

function specSchemas(): Map<string, CrdSchema> {
  const out = new Map<string, CrdSchema>();
  for (const crd of buildCrds()) {
    const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
    assert.ok(spec, `${crd.spec.names.kind} has no spec schema`);
    out.set(crd.spec.names.kind, spec);
  }
  return out;
}

/**
 * Walks a manifest value alongside its schema: records each leaf field path it uses ("spec.routes[].name")
 * and returns fields the schema does not declare, which the apiserver would prune or (kubectl's strict
 * field validation) refuse.
 */
function walkValue(value: unknown, schema: CrdSchema, path: string, used: Set<string>): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties) {
    used.add(path);
    return [];
  }
  if (Array.isArray(value)) {
    return schema.items
      ? value.flatMap((v) => walkValue(v, schema.items as CrdSchema, `${path}[]`, used))
      : [];
  }
  if (typeof value !== 'object' || value === null || !schema.properties) {
    used.add(path);
    return [];
  }
  const unknown: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schema.properties[key];
    if (childSchema) unknown.push(...walkValue(child, childSchema, `${path}.${key}`, used));
    else unknown.push(`${path}.${key}`);
  }
  return unknown;
}

/** Leaf field paths a spec schema declares, in walkValue's notation. */
function leafPaths(schema: CrdSchema, path: string): string[] {
  if (schema.properties)
    return Object.entries(schema.properties).flatMap(([k, s]) => leafPaths(s, `${path}.${k}`));
  if (schema.items) return leafPaths(schema.items, `${path}[]`);
  return [path];
}

/** Spec fields no valid fixture needs to set, and why. */
const NOT_EXERCISED = new Set([
  // fallbacks reuse the target schema, but are tried in order: a weight there means nothing.
  'spec.routes[].fallbacks[].weight',
]);

describe('valid manifest fixtures', () => {
  const fixtures = loadFixtures('valid');
  const schemas = specSchemas();

  /** Walks every Turnout object of a fixture; returns the undeclared fields it uses. */
  const walkFixture = (f: Fixture, used: Map<string, Set<string>>): string[] =>
    [...parse(f).providers, ...parse(f).policies].flatMap((obj) => {
      const schema = schemas.get(obj.kind);
      assert.ok(schema, obj.kind);
      const seen = used.get(obj.kind) ?? new Set<string>();
      used.set(obj.kind, seen);
      return walkValue(obj.spec, schema, 'spec', seen).map((p) => `${obj.kind} ${obj.metadata.name}: ${p}`);
    });

  it('exist', () => assert.ok(fixtures.length > 0));

  for (const f of fixtures) {
    it(`${f.file} parses and compiles cleanly`, () => {
      const m = parse(f);
      assert.deepEqual(m.diagnostics, [], `parse diagnostics:\n  ${show(m.diagnostics)}`);
      assert.ok(m.providers.length + m.policies.length > 0, 'holds no Turnout objects');
      const errors = compileErrors(m);
      assert.deepEqual(errors, [], `compile errors:\n  ${show(errors)}`);
    });

    it(`${f.file} uses only fields the CRDs declare`, () => {
      assert.deepEqual(
        walkFixture(f, new Map()),
        [],
        'the apiserver would drop (or, strict, refuse) these fields',
      );
    });
  }

  it('together exercise every spec field of both CRDs', () => {
    const used = new Map<string, Set<string>>();
    for (const f of fixtures) walkFixture(f, used);
    for (const [kind, schema] of schemas) {
      const missing = leafPaths(schema, 'spec').filter(
        (p) => !NOT_EXERCISED.has(p) && !used.get(kind)?.has(p),
      );
      assert.deepEqual(missing, [], `${kind}: no valid fixture sets these fields`);
    }
  });

  it('include a Secret, a ModelProvider and a RoutingPolicy', () => {
    const all = fixtures.map(parse);
    assert.ok(all.some((m) => m.secrets.length > 0));
    assert.ok(all.some((m) => m.providers.length > 0));
    assert.ok(all.some((m) => m.policies.length > 0));
  });
});

describe('invalid manifest fixtures', () => {
  const fixtures = loadFixtures('invalid');

  it('exist', () => assert.ok(fixtures.length >= 20));

  for (const f of fixtures) {
    it(f.file, () => {
      const path = f.headers.get('expect-path');
      const message = f.headers.get('expect-message');
      const stage = f.headers.get('expect-stage') ?? 'parse';
      assert.ok(
        path !== undefined && message !== undefined,
        'needs # expect-path: and # expect-message: headers',
      );
      assert.ok(stage === 'parse' || stage === 'compile', `unknown expect-stage ${stage}`);
      const parsed = parse(f);
      let found = parsed.diagnostics;
      if (stage === 'compile') {
        assert.deepEqual(
          parsed.diagnostics,
          [],
          `expected to parse and fail in compile, got:\n  ${show(found)}`,
        );
        found = compileErrors(parsed);
      }
      assert.ok(
        found.some((d) => d.path === path && d.message.includes(message)),
        `expected ${path}: …${message}…\n got:\n  ${show(found)}`,
      );
      // One mistake per file: anything reported elsewhere means the fixture tests two things.
      assert.deepEqual(
        found.filter((d) => d.path !== path),
        [],
        'reports problems at other paths too',
      );
    });
  }
});
