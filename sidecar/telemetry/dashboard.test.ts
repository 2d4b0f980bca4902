// The Grafana dashboard shipped in the chart queries only metrics that exist, by their real names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { OperatorMetrics } from '../../operator/metrics.ts';
import { PushMetrics } from '../../operator/push/metrics.ts';
import { SidecarMetrics } from '../metrics.ts';

const DASHBOARD = new URL('../../charts/turnout/dashboards/turnout.json', import.meta.url);

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; w: number };
  targets?: { expr: string; refId: string }[];
}

it('every panel query names a metric the sidecar, operator or push server registers', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; query: unknown }[] };
  };
  const operator = new OperatorMetrics();
  operator.observeSync(() => [], { sidecars: () => [] });
  const known = new Set(
    [new SidecarMetrics().registry, operator.registry, new PushMetrics().registry].flatMap((r) =>
      r.getMetricsAsArray().map((m) => m.name),
    ),
  );
  const ids = new Set<number>();
  const queries = [
    ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
    ...dash.templating.list.flatMap((v) =>
      typeof v.query === 'object' && v.query !== null
        ? [{ where: `$${v.name}`, expr: (v.query as { query: string }).query }]
        : [],
    ),
  ];
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
    ids.add(p.id);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
  }
  assert.ok(queries.length > 30);
  for (const q of queries) {
    // Metric names only: label matchers, by (…) clauses and label_values' label argument removed.
    const stripped = q.expr
      .replace(/\{[^}]*\}/g, '')
      .replace(/\b(by|without)\s*\([^)]*\)/g, '')
      .replace(/,\s*[a-z_]+\)/g, ')');
    const names = stripped.match(/\b(turnout|gen_ai)_[a-z_]+\b/g) ?? [];
    assert.ok(names.length > 0, `${q.where}: queries a Turnout metric`);
    for (const name of names) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(known.has(name) || known.has(base), `${q.where}: unknown metric ${name}`);
    }
  }
  assert.equal(dash.uid, 'turnout-overview');
});
