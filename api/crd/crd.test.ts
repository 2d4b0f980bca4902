import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { endpointProblem } from '../model-provider.ts';
import {
  buildCrds,
  celEndpointHostUrlPattern,
  celPlaintextUrlPattern,
  celString,
  crdFiles,
  GENERATED_HEADER,
  schemaAt,
  type CrdSchema,
  type CustomResourceDefinition,
} from './index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function crdOf(kind: string): CustomResourceDefinition {
  const crd = buildCrds().find((c) => c.spec.names.kind === kind);
  assert.ok(crd, `no CRD for ${kind}`);
  return crd;
}

function rootSchema(kind: string): CrdSchema {
  const version = crdOf(kind).spec.versions[0];
  assert.ok(version);
  return version.schema.openAPIV3Schema;
}

/** Every schema node with its manifest-style path. */
function* walk(node: CrdSchema, path = ''): Generator<[string, CrdSchema]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {}))
    yield* walk(child, path ? `${path}.${name}` : name);
  if (node.items) yield* walk(node.items, `${path}[]`);
  if (node.additionalProperties) yield* walk(node.additionalProperties, `${path}.*`);
}

/**
 * Schema fields a CEL rule reads: `self.x` on the rule's node and `v.x` for variables bound by
 * `self.list.exists(v, …)` / `all(v, …)`. A heuristic over the rule text, enough for the rules we write.
 */
function fieldsRead(rule: string, node: CrdSchema): [string, CrdSchema][] {
  const scopes = new Map<string, CrdSchema>([['self', node]]);
  for (const m of rule.matchAll(/self\.(\w+)\.(?:exists|all)\((\w+),/g)) {
    const items = node.properties?.[m[1] ?? '']?.items;
    if (items && m[2]) scopes.set(m[2], items);
  }
  const out: [string, CrdSchema][] = [];
  for (const m of rule.matchAll(/\b(\w+)\.(\w+)\b/g)) {
    const field = scopes.get(m[1] ?? '')?.properties?.[m[2] ?? ''];
    if (field) out.push([`${m[1]}.${m[2]}`, field]);
  }
  return out;
}

describe('generated CRD files', () => {
  it('match the checked-in crds/ and charts/turnout/crds/', () => {
    for (const [rel, want] of crdFiles()) {
      let have = '';
      try {
        have = readFileSync(join(ROOT, rel), 'utf8');
      } catch {
        // reported as a mismatch below
      }
      assert.ok(have === want, `${rel} differs from the generator's output: run \`npm run gen:crds\``);
    }
  });

  it('carry the do-not-edit header', () => {
    for (const [rel, text] of crdFiles()) assert.ok(text.startsWith(GENERATED_HEADER), rel);
  });

  it('generate.ts --check agrees', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'api/crd/generate.ts'), '--check'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  });
});

describe('CRD identity', () => {
  const cases = [
    { kind: 'ModelProvider', plural: 'modelproviders', short: 'mp' },
    { kind: 'RoutingPolicy', plural: 'routingpolicies', short: 'rp' },
  ];
  for (const { kind, plural, short } of cases) {
    it(`${kind}: names, scope, version, status subresource`, () => {
      const crd = crdOf(kind);
      assert.equal(crd.metadata.name, `${plural}.turnout.dev`);
      assert.equal(crd.spec.group, 'turnout.dev');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.deepEqual(crd.spec.names.shortNames, [short]);
      assert.deepEqual(crd.spec.names.categories, ['turnout']);
      assert.equal(crd.spec.names.plural, plural);
      assert.equal(crd.spec.versions.length, 1);
      const [v] = crd.spec.versions;
      assert.ok(v);
      assert.deepEqual([v.name, v.served, v.storage], ['v1alpha1', true, true]);
      assert.deepEqual(v.subresources, { status: {} });
      assert.deepEqual(v.schema.openAPIV3Schema.required, ['spec']);
      assert.deepEqual(v.schema.openAPIV3Schema.properties?.metadata, { type: 'object' });
    });
  }
});

describe('structural schema', () => {
  const FORBIDDEN = [
    'anyOf',
    'oneOf',
    'allOf',
    'not',
    '$ref',
    '$schema',
    'propertyNames',
    'const',
    'uniqueItems',
  ];
  for (const kind of ['ModelProvider', 'RoutingPolicy']) {
    it(`${kind}: every node typed or preserving unknown fields, no forbidden keywords`, () => {
      for (const [path, node] of walk(rootSchema(kind))) {
        const at = path || '<root>';
        assert.ok(
          node.type !== undefined || node['x-kubernetes-preserve-unknown-fields'] === true,
          `${at} has no type`,
        );
        for (const key of FORBIDDEN) assert.ok(!(key in node), `${at} uses ${key}`);
        const extra = (node as { additionalProperties?: unknown }).additionalProperties;
        assert.ok(
          extra === undefined || (typeof extra === 'object' && extra !== null),
          `${at}: additionalProperties must be a schema`,
        );
        assert.ok(!(node.properties && extra), `${at}: properties and additionalProperties together`);
        if (node.type === 'array') assert.ok(node.items, `${at}: array without items`);
      }
    });

    it(`${kind}: every string and list a CEL rule reads is bounded (or the apiserver refuses the CRD)`, () => {
      for (const [path, node] of walk(rootSchema(kind))) {
        for (const { rule } of node['x-kubernetes-validations'] ?? []) {
          for (const [field, schema] of fieldsRead(rule, node)) {
            const bounded =
              schema.type === 'string'
                ? schema.maxLength !== undefined
                : schema.type !== 'array' || schema.maxItems !== undefined;
            assert.ok(bounded, `${path || '<root>'}: rule reads ${field}, which has no maxLength/maxItems`);
          }
        }
      }
    });
  }

  it('records become string maps; unknown JSON is preserved', () => {
    const rp = rootSchema('RoutingPolicy');
    assert.deepEqual(schemaAt(rp, 'spec.workloadSelector.matchLabels').additionalProperties, {
      type: 'string',
    });
    assert.deepEqual(schemaAt(rp, 'spec.routes[].match.headers').additionalProperties, { type: 'string' });
    const jsonSchema = schemaAt(rp, 'spec.routes[].cascade.accept.jsonSchema');
    assert.equal(jsonSchema['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(jsonSchema.additionalProperties, undefined);
    assert.deepEqual(schemaAt(rootSchema('ModelProvider'), 'spec.tags').additionalProperties, {
      type: 'string',
    });
  });

  it('keeps bounds, enums and duration patterns; drops JavaScript safe-integer bounds', () => {
    const rp = rootSchema('RoutingPolicy');
    assert.equal(schemaAt(rp, 'spec.routes').maxItems, 128);
    assert.equal(schemaAt(rp, 'spec.routes[].targets').minItems, 1);
    assert.deepEqual(schemaAt(rp, 'spec.budgets[].window').enum, ['hour', 'day', 'month']);
    assert.equal(schemaAt(rp, 'spec.routes[].name').maxLength, 63);
    assert.match(schemaAt(rp, 'spec.routes[].cache.ttl').pattern ?? '', /ms\|s\|m\|h/);
    assert.equal(schemaAt(rp, 'spec.routes[].shadow.percent').maximum, 100);
    assert.equal(schemaAt(rp, 'spec.routes[].match.promptTokens.max').maximum, undefined);
    assert.deepEqual(
      [
        schemaAt(rp, 'spec.budgets[].limitUSD').minimum,
        schemaAt(rp, 'spec.budgets[].limitUSD').exclusiveMinimum,
      ],
      [0, true],
    );
  });

  it('routes and budgets are list-maps keyed by name', () => {
    const rp = rootSchema('RoutingPolicy');
    for (const path of ['spec.routes', 'spec.budgets']) {
      const list = schemaAt(rp, path);
      assert.equal(list['x-kubernetes-list-type'], 'map', path);
      assert.deepEqual(list['x-kubernetes-list-map-keys'], ['name'], path);
      assert.ok(list.items?.required?.includes('name'), `${path}[].name must be required`);
    }
  });
});

describe('CEL rules', () => {
  const rulesAt = (kind: string, path: string) =>
    (schemaAt(rootSchema(kind), path)['x-kubernetes-validations'] ?? []).map((v) => v.rule);

  it('ModelProvider: endpoint presence by type, mock/azure blocks, https', () => {
    const spec = rulesAt('ModelProvider', 'spec').join('\n');
    for (const field of ['endpoint', 'mock', 'azure'])
      assert.match(spec, new RegExp(`has\\(self\\.${field}\\)`));
    assert.ok(rulesAt('ModelProvider', 'spec.endpoint').some((r) => r.includes('lowerAscii().matches(')));
  });

  it('RoutingPolicy: defaultRoute, budget route actions, weighted targets, promptTokens, rate limits', () => {
    assert.ok(rulesAt('RoutingPolicy', 'spec').some((r) => r.includes('self.defaultRoute')));
    assert.ok(rulesAt('RoutingPolicy', 'spec').some((r) => r.includes("'route:' + r.name")));
    assert.ok(rulesAt('RoutingPolicy', 'spec.routes[]').some((r) => r.includes("'weighted'")));
    assert.ok(
      rulesAt('RoutingPolicy', 'spec.routes[].match.promptTokens').some((r) =>
        r.includes('self.min <= self.max'),
      ),
    );
    assert.ok(rulesAt('RoutingPolicy', 'spec.rateLimits[]').some((r) => r.includes('requestsPerMinute')));
  });

  it('both kinds insist on DNS-label names, as the operator does', () => {
    for (const kind of ['ModelProvider', 'RoutingPolicy']) {
      assert.ok(
        rulesAt(kind, '').some((r) => r.includes('self.metadata.name.matches(')),
        kind,
      );
    }
  });

  it('every rule says what to do and any fieldPath names a real field', () => {
    for (const kind of ['ModelProvider', 'RoutingPolicy']) {
      for (const [path, node] of walk(rootSchema(kind))) {
        for (const v of node['x-kubernetes-validations'] ?? []) {
          assert.ok(v.message.length >= 20, `${path}: "${v.message}" is too terse`);
          if (v.fieldPath)
            assert.ok(
              node.properties?.[v.fieldPath.slice(1)],
              `${path}: fieldPath ${v.fieldPath} names no field`,
            );
        }
      }
    }
  });

  it('celString escapes backslashes and quotes', () => {
    assert.equal(celString("a\\.b'c"), "'a\\\\.b\\'c'");
  });

  it('the plain-http URL pattern agrees with endpointProblem()', () => {
    const pattern = new RegExp(celPlaintextUrlPattern());
    const urls = [
      'http://localhost:8080/v1',
      'http://127.0.0.1/v1',
      'http://[::1]:11434',
      'http://vllm.models.svc:8000/v1',
      'http://vllm.models.svc.cluster.local/v1',
      'http://ollama.cluster.local',
      'http://api.openai.com/v1',
      'http://evil.svc.example.com/v1',
      'http://10.0.0.1/v1',
    ];
    for (const url of urls) {
      assert.equal(pattern.test(url.toLowerCase()), endpointProblem(url) === undefined, url);
    }
  });
});

describe('endpoint hosts', () => {
  const hostRejected = (url: string) => endpointProblem(url)?.startsWith('endpoint host') ?? false;

  it('refuses wildcards and names that are not DNS-1123, in zod and in the CEL pattern alike', () => {
    const pattern = new RegExp(celEndpointHostUrlPattern());
    const verdicts: [string, boolean][] = [
      ['https://api.openai.com/v1', true],
      ['https://API.OpenAI.com/v1', true],
      ['https://api.openai.com:8443/v1', true],
      ['https://acme.openai.azure.com', true],
      ['http://127.0.0.1:8080/v1', true],
      ['http://[::1]:11434', true],
      ['https://[2001:db8::1]/v1', true],
      ['http://vllm.models.svc.cluster.local:8000/v1', true],
      ['https://*.googleapis.com/v1', false],
      ['https://*/v1', false],
      ['https://api.*.com/v1', false],
      ['https://api_x.example.com/v1', false],
      ['https://api.openai.com./v1', false],
      ['https://a..b.example.com/v1', false],
      ['https://-a.example.com/v1', false],
      [`https://${'a'.repeat(64)}.example.com/v1`, false],
    ];
    for (const [url, accepted] of verdicts) {
      assert.equal(!hostRejected(url), accepted, `zod: ${url}`);
      assert.equal(pattern.test(url.toLowerCase()), accepted, `CEL: ${url}`);
    }
  });

  it('says what to write instead, naming the wildcard', () => {
    assert.match(
      endpointProblem('https://*.googleapis.com/v1') ?? '',
      /exact DNS name.*wildcards are not allowed/,
    );
    assert.match(
      endpointProblem('https://api_x.example.com') ?? '',
      /"api_x.example.com" must be an exact DNS name/,
    );
  });

  it('leaves credentials and queries to their own rules', () => {
    const pattern = new RegExp(celEndpointHostUrlPattern());
    assert.ok(pattern.test('https://admin:hunter2@llm.example.com/v1'));
    assert.ok(pattern.test('https://team-a.openai.azure.com/openai?api-version=2024-10-21'));
  });
});

describe('printer columns', () => {
  const columns = (kind: string) => crdOf(kind).spec.versions[0]?.additionalPrinterColumns ?? [];
  const summary = (kind: string) => columns(kind).map((c) => [c.name, c.jsonPath, c.priority ?? 0]);

  it('RoutingPolicy: strategy, default, synced/selected, conditions, age', () => {
    assert.deepEqual(summary('RoutingPolicy'), [
      ['Strategy', '.spec.routes[0].strategy', 0],
      ['Default', '.spec.defaultRoute', 1],
      ['Synced', '.status.sidecars.synced', 0],
      ['Selected', '.status.sidecars.selected', 0],
      ['Accepted', '.status.conditions[?(@.type=="Accepted")].status', 1],
      ['Programmed', '.status.conditions[?(@.type=="Programmed")].status', 0],
      ['Spend', '.status.spend[0].usedUSD', 1],
      ['Age', '.metadata.creationTimestamp', 0],
    ]);
  });

  it('ModelProvider: type, endpoint, ready, age', () => {
    assert.deepEqual(summary('ModelProvider'), [
      ['Type', '.spec.type', 0],
      ['Endpoint', '.spec.endpoint', 0],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status', 0],
      ['Age', '.metadata.creationTimestamp', 0],
    ]);
  });

  it('every column path exists in the schema', () => {
    for (const kind of ['ModelProvider', 'RoutingPolicy']) {
      for (const c of columns(kind)) {
        if (c.jsonPath.startsWith('.metadata.')) continue;
        const path = c.jsonPath
          .slice(1)
          .replace(/\[\?\(@\.type=="\w+"\)\]/g, '[]')
          .replace(/\[0\]/g, '[]');
        assert.doesNotThrow(
          () => schemaAt(rootSchema(kind), path),
          `${kind} column ${c.name}: ${c.jsonPath}`,
        );
      }
    }
  });
});

// Every field API.md shows (docs/API.md, "Custom resources"), as a manifest-style path into the schema.
const API_FIELDS: Record<string, readonly string[]> = {
  ModelProvider: [
    'spec.type',
    'spec.endpoint',
    'spec.auth.secretRef.name',
    'spec.auth.secretRef.key',
    'spec.models[].name',
    'spec.models[].pricing.input',
    'spec.models[].pricing.output',
    'spec.models[].pricing.cachedInput',
    'spec.models[].contextWindow',
    'spec.models[].maxOutputTokens',
    'spec.models[].capabilities',
    'spec.tags',
    'spec.limits.requestsPerMinute',
    'spec.limits.tokensPerMinute',
    'spec.limits.maxConcurrent',
    'spec.timeouts.connect',
    'spec.timeouts.firstToken',
    'spec.timeouts.idle',
    'spec.timeouts.total',
    'spec.circuitBreaker.consecutiveFailures',
    'spec.circuitBreaker.openFor',
    'spec.mock.latency',
    'spec.mock.chunks',
    'spec.mock.faults',
    'status.observedGeneration',
    'status.conditions[].type',
    'status.conditions[].status',
    'status.conditions[].reason',
    'status.conditions[].message',
    'status.conditions[].lastTransitionTime',
    'status.conditions[].observedGeneration',
  ],
  RoutingPolicy: [
    'spec.workloadSelector.matchLabels',
    'spec.routes[].name',
    'spec.routes[].match.model',
    'spec.routes[].match.headers',
    'spec.routes[].match.promptTokens.max',
    'spec.routes[].match.requires',
    'spec.routes[].match.tags',
    'spec.routes[].strategy',
    'spec.routes[].targets[].provider',
    'spec.routes[].targets[].model',
    'spec.routes[].targets[].weight',
    'spec.routes[].fallbacks[].provider',
    'spec.routes[].fallbacks[].model',
    'spec.routes[].retry.attempts',
    'spec.routes[].retry.backoff.base',
    'spec.routes[].retry.backoff.max',
    'spec.routes[].retry.on',
    'spec.routes[].timeouts.firstToken',
    'spec.routes[].timeouts.total',
    'spec.routes[].constraints.providerTags',
    'spec.routes[].affinity.header',
    'spec.routes[].affinity.ttl',
    'spec.routes[].cascade.accept.jsonSchema',
    'spec.routes[].cascade.accept.minOutputTokens',
    'spec.routes[].cache.ttl',
    'spec.routes[].cache.maxEntries',
    'spec.routes[].shadow.provider',
    'spec.routes[].shadow.model',
    'spec.routes[].shadow.percent',
    'spec.defaultRoute',
    'spec.budgets[].name',
    'spec.budgets[].limitUSD',
    'spec.budgets[].window',
    'spec.budgets[].scope',
    'spec.budgets[].action',
    'spec.rateLimits[].scope',
    'spec.rateLimits[].requestsPerMinute',
    'spec.rateLimits[].tokensPerMinute',
    'status.observedGeneration',
    'status.conditions[].type',
    'status.snapshotVersion',
    'status.sidecars.selected',
    'status.sidecars.synced',
    'status.sidecars.stale',
    'status.sidecars.rejected',
    'status.spend[].budget',
    'status.spend[].windowStart',
    'status.spend[].usedUSD',
  ],
};

describe('API.md fields exist in the CRD schema', () => {
  for (const [kind, paths] of Object.entries(API_FIELDS)) {
    it(kind, () => {
      const root = rootSchema(kind);
      for (const path of paths) assert.doesNotThrow(() => schemaAt(root, path), `${kind}: ${path}`);
    });
  }
});
