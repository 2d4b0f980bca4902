import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedParameter } from './errors.ts';
import { geminiSchema, InlineBudget, MAX_INLINED_NODES } from './gemini-schema.ts';

describe('geminiSchema', () => {
  it('drops keywords Gemini rejects and keeps the ones it accepts', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'x',
      type: 'object',
      title: 'T',
      description: 'D',
      additionalProperties: false,
      patternProperties: { '^x': {} },
      properties: {
        n: { type: 'number', minimum: 0, maximum: 10, exclusiveMinimum: 0, format: 'double' },
        s: { type: 'string', minLength: 1, maxLength: 5, pattern: '^a', format: 'email', examples: ['a'] },
        l: {
          type: 'array',
          items: { type: 'integer', format: 'int64' },
          minItems: 1,
          maxItems: 3,
          uniqueItems: true,
        },
      },
      required: ['n', 'ghost'],
      not: { required: ['l'] },
    };
    assert.deepEqual(geminiSchema(schema), {
      type: 'object',
      title: 'T',
      description: 'D',
      properties: {
        n: { type: 'number', minimum: 0, maximum: 10, format: 'double' },
        s: { type: 'string', minLength: 1, maxLength: 5, pattern: '^a' },
        l: { type: 'array', items: { type: 'integer', format: 'int64' }, minItems: 1, maxItems: 3 },
      },
      required: ['n'],
    });
  });

  it('rewrites nullable type unions, multi-type unions, const and oneOf', () => {
    assert.deepEqual(geminiSchema({ type: ['string', 'null'] }), { type: 'string', nullable: true });
    assert.deepEqual(geminiSchema({ type: ['string', 'integer'] }), {
      anyOf: [{ type: 'string' }, { type: 'integer' }],
    });
    assert.deepEqual(geminiSchema({ const: 'x' }), { enum: ['x'], type: 'string' });
    assert.deepEqual(
      geminiSchema({ type: 'integer', enum: [1, 2] }),
      { type: 'integer' },
      'non-string enums are dropped',
    );
    assert.deepEqual(geminiSchema({ oneOf: [{ type: 'string' }, { type: 'null' }] }), {
      anyOf: [{ type: 'string' }, { type: 'null' }],
    });
  });

  it('inlines local $refs from $defs and definitions, and single-member allOf', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { $ref: '#/$defs/A', description: 'an A' },
        b: { allOf: [{ $ref: '#/definitions/B' }] },
      },
      $defs: { A: { type: 'string', enum: ['x', 'y'] } },
      definitions: { B: { type: 'boolean' } },
    };
    assert.deepEqual(geminiSchema(schema), {
      type: 'object',
      properties: { a: { type: 'string', description: 'an A', enum: ['x', 'y'] }, b: { type: 'boolean' } },
    });
  });

  it('cuts a recursive $ref where it recurs: the member that would recurse is left out', () => {
    const schema = {
      type: 'object',
      properties: { tree: { $ref: '#/$defs/Node', description: 'the root' } },
      required: ['tree'],
      $defs: {
        Node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/Node' } },
            parent: { anyOf: [{ $ref: '#/$defs/Node' }, { type: 'integer' }] },
            next: { $ref: '#/$defs/Node' },
          },
          required: ['name', 'next'],
        },
      },
    };
    assert.deepEqual(geminiSchema(schema), {
      type: 'object',
      properties: {
        tree: {
          type: 'object',
          description: 'the root',
          properties: { name: { type: 'string' }, parent: { anyOf: [{ type: 'integer' }] } },
          required: ['name'],
        },
      },
      required: ['tree'],
    });
  });

  it('a schema that is only recursion becomes {}', () => {
    const list = {
      $defs: { L: { type: 'object', properties: { next: { $ref: '#/$defs/L' } } } },
      $ref: '#/$defs/L',
    };
    assert.deepEqual(geminiSchema(list), {});
  });

  for (const k of [8, 10]) {
    it(`a node with ${k} properties that are all the node again stays bounded (was k^depth)`, () => {
      const properties = Object.fromEntries(
        Array.from({ length: k }, (_, i) => [`p${i}`, { $ref: '#/$defs/Node' }]),
      );
      const schema = {
        type: 'object',
        properties: { root: { $ref: '#/$defs/Node' }, label: { type: 'string' } },
        $defs: { Node: { type: 'object', properties } },
      };
      assert.deepEqual(geminiSchema(schema), { type: 'object', properties: { label: { type: 'string' } } });
    });
  }

  it('refuses shared (non-recursive) $defs that multiply past the node budget', () => {
    const $defs: Record<string, unknown> = { D: { type: 'string' } };
    for (const [name, next] of [
      ['C', 'D'],
      ['B', 'C'],
      ['A', 'B'],
      ['Top', 'A'],
    ]) {
      const properties = Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`p${i}`, { $ref: `#/$defs/${next}` }]),
      );
      $defs[name ?? ''] = { type: 'object', properties };
    }
    assert.throws(
      () => geminiSchema({ $ref: '#/$defs/Top', $defs }, { param: 'tools[0].function.parameters' }),
      (e: unknown) =>
        e instanceof UnsupportedParameter &&
        e.param === 'tools[0].function.parameters' &&
        e.message.includes(`${MAX_INLINED_NODES} schema nodes`),
    );
    // One level less (1,111 nodes) is inlined as before.
    const out = geminiSchema({ $ref: '#/$defs/A', $defs });
    assert.equal(JSON.stringify(out).match(/"type":"string"/g)?.length, 1000);
  });

  it('counts against one budget shared by every schema of a request', () => {
    const budget = new InlineBudget();
    const $defs = { S: { type: 'string' } };
    const many = {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 4000 }, (_, i) => [`p${i}`, { $ref: '#/$defs/S' }]),
      ),
      $defs,
    };
    geminiSchema(many, { budget });
    geminiSchema(many, { budget });
    assert.throws(() => geminiSchema(many, { budget, param: 'p' }), UnsupportedParameter);
    assert.doesNotThrow(() => geminiSchema(many), 'a fresh budget by default');
    // Nodes written out as they are (no $ref) are the caller's own size and are not counted.
    const plain = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`p${i}`, { type: 'string' }])),
    };
    assert.doesNotThrow(() => geminiSchema(plain));
  });

  it('keeps a property named like a prototype key as a property', () => {
    const properties = JSON.parse('{"__proto__": {"type": "string"}}') as unknown;
    const out = geminiSchema({ type: 'object', properties, required: ['__proto__', 'toString'] });
    assert.deepEqual(
      JSON.parse(JSON.stringify(out)),
      JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}},"required":["__proto__"]}'),
    );
  });

  it('returns an empty schema for non-objects', () => {
    assert.deepEqual(geminiSchema('nope'), {});
    assert.deepEqual(geminiSchema(null), {});
  });
});
