// The generated CRDs and the bundled examples against a REAL kube-apiserver with the real kubectl:
// they install, the examples pass client- and server-side dry runs, and every invalid fixture is
// rejected by the apiserver itself (schema + CEL) with the field path in the message.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const at = (p: string) => join(root, p);
let cp: ControlPlane;

async function ok(args: string[]) {
  const r = await cp.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function namespacesIn(file: string): Promise<string[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8')).map(
    (d) => d.toJS() as { metadata?: { namespace?: string } } | null,
  );
  return [
    ...new Set(docs.map((d) => d?.metadata?.namespace).filter((n): n is string => typeof n === 'string')),
  ];
}

async function ensureNamespaces(names: string[]) {
  for (const ns of names) {
    const r = await cp.kubectl(['create', 'namespace', ns]);
    assert.ok(r.code === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
  }
}

before(
  async () => {
    cp = await startControlPlane();
    await ok(['apply', '-f', at('crds/')]);
    await ok([
      'wait',
      '--for',
      'condition=established',
      '--timeout=60s',
      'crd/routingpolicies.turnout.dev',
      'crd/modelproviders.turnout.dev',
    ]);
    await ensureNamespaces(['demo', 'team-a']);
  },
  { timeout: 30 * 60_000 },
);

after(async () => {
  await cp?.stop();
});

describe('CRDs and examples on a real apiserver', () => {
  it('kubectl apply --dry-run=client accepts crds/ and examples/', async () => {
    await ok(['apply', '--dry-run=client', '-f', at('crds/')]);
    await ok(['apply', '--dry-run=client', '-f', at('examples/local/')]);
    await ok(['apply', '--dry-run=client', '-f', at('examples/cloud/')]);
  });

  it('the apiserver itself accepts examples/ and the valid fixtures (server-side dry run)', async () => {
    await ok(['apply', '--dry-run=server', '-f', at('examples/local/')]);
    await ok(['apply', '--dry-run=server', '-f', at('examples/cloud/')]);
    for (const f of await readdir(at('test/fixtures/manifests/valid'))) {
      const file = at(`test/fixtures/manifests/valid/${f}`);
      await ensureNamespaces(await namespacesIn(file));
      await ok(['apply', '--dry-run=server', '-f', file]);
    }
  });

  it('rejects every invalid fixture with the field path in the message', async () => {
    const dir = at('test/fixtures/manifests/invalid');
    let checked = 0;
    for (const f of (await readdir(dir)).sort()) {
      const file = join(dir, f);
      const text = await readFile(file, 'utf8');
      const expected = /^# expect-apiserver: (.+)$/m.exec(text)?.[1]?.trim();
      if (expected === undefined) continue;
      await ensureNamespaces(await namespacesIn(file));
      const r = await cp.kubectl(['apply', '--dry-run=server', '-f', file]);
      assert.notEqual(r.code, 0, `${f}: the apiserver accepted it`);
      assert.ok(r.stderr.includes(expected), `${f}: expected "${expected}" in:\n${r.stderr}`);
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} fixtures carry an apiserver expectation`);
  });

  it('kubectl get rp,mp shows the printer columns, by short name and by category', async () => {
    await ok(['apply', '-f', at('examples/local/')]);
    const rp = await ok(['get', 'rp', '-n', 'demo']);
    assert.match(rp.split('\n')[0] ?? '', /NAME\s+STRATEGY/);
    assert.match(rp, /assistant\s+priority/);
    const mp = await ok(['get', 'mp', '-n', 'demo']);
    assert.match(mp.split('\n')[0] ?? '', /NAME\s+TYPE/);
    assert.match(mp, /mock-cheap\s+mock/);
    const all = await ok(['get', 'turnout', '-n', 'demo', '-o', 'name']);
    assert.match(all, /routingpolicy.turnout.dev\/assistant/);
    assert.match(all, /modelprovider.turnout.dev\/mock-flaky/);
  });
});
