import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { geminiSchema } from './gemini-schema.ts';

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

  it('cuts recursive $refs instead of looping', () => {
    const schema = {
      $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } },
      $ref: '#/$defs/Node',
    };
    const out = JSON.stringify(geminiSchema(schema));
    assert.ok(out.length < 10_000);
    assert.ok(out.startsWith('{"type":"object","properties":{"next":{"type":"object"'));
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
