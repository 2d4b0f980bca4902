// docs/bench-peers.png: the peer comparison as four panels of horizontal bars (added latency non-stream
// and stream, sustained rate on one core, RSS under load), drawn as SVG here and rasterised with
// @resvg/resvg-js (a maintained Rust renderer shipped as a prebuilt npm binary: no browser, no canvas
// toolchain). Latency and rate span orders of magnitude between gateways, so those axes are logarithmic.
// Run directly (`scripts/node bench/peers/chart.ts`) to redraw from bench/out/peers.json.
import { readFile, writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import { here } from '../processes.ts';
import type { GatewayResult, PeersResult } from './run-peers.ts';

export const CHART_PATH = here('../docs/bench-peers.png');

interface Bar {
  label: string;
  values: number[];
}
interface Panel {
  title: string;
  unit: string;
  log: boolean;
  series: string[];
  bars: Bar[];
}

const WIDTH = 1200;
const PANEL_W = 560;
const PANEL_H = 250;
const LABEL_W = 110;
const COLORS = ['#2f6fbf', '#9cc3ef'];
const TURNOUT_COLORS = ['#d9480f', '#ffa94d'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const show = (v: number) =>
  v === 0 ? 'none' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(2);

function panelSvg(p: Panel, x0: number, y0: number): string {
  const plotW = PANEL_W - LABEL_W - 70;
  const finite = p.bars.flatMap((b) => b.values).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(1, ...finite);
  const min = p.log ? Math.min(max / 10, ...finite) / 2 : 0;
  const scale = (v: number) =>
    !Number.isFinite(v) || v <= 0
      ? 0
      : p.log
        ? (Math.log10(v / min) / Math.log10((max * 1.05) / min)) * plotW
        : (v / (max * 1.05)) * plotW;
  const rowH = (PANEL_H - 60) / Math.max(1, p.bars.length);
  const barH = Math.min(16, (rowH - 6) / p.series.length);
  const out = [
    `<text x="${x0}" y="${y0 + 18}" font-size="16" font-weight="bold">${esc(p.title)}</text>`,
    `<text x="${x0}" y="${y0 + 36}" font-size="12" fill="#555">${esc(p.unit)}${p.log ? ' (log scale)' : ''}${p.series.length > 1 ? ` · bars: ${p.series.join(' / ')}` : ''}</text>`,
  ];
  p.bars.forEach((b, i) => {
    const y = y0 + 50 + i * rowH;
    const turnout = b.label === 'turnout';
    out.push(
      `<text x="${x0 + LABEL_W - 8}" y="${y + rowH / 2 + 4}" font-size="13" text-anchor="end"${turnout ? ' font-weight="bold"' : ''}>${esc(b.label)}</text>`,
    );
    b.values.forEach((v, j) => {
      const by = y + (rowH - barH * p.series.length) / 2 + j * barH;
      const w = scale(v);
      const color = (turnout ? TURNOUT_COLORS : COLORS)[j] ?? '#888';
      out.push(
        `<rect x="${x0 + LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${color}"/>`,
      );
      const text = Number.isFinite(v) ? show(v) : 'n/a';
      out.push(
        `<text x="${x0 + LABEL_W + w + 4}" y="${by + barH - 4}" font-size="11" fill="#333">${text}</text>`,
      );
    });
  });
  out.push(
    `<line x1="${x0 + LABEL_W}" y1="${y0 + 46}" x2="${x0 + LABEL_W}" y2="${y0 + PANEL_H - 6}" stroke="#999"/>`,
  );
  return out.join('\n');
}

function panels(r: PeersResult): Panel[] {
  const measured = r.gateways.filter((g) => g.error === undefined || g.maxRate !== undefined);
  const pair = (g: GatewayResult, k: 'single' | 'ttft') => [
    g.added[k]?.p50 ?? Number.NaN,
    g.added[k]?.p99 ?? Number.NaN,
  ];
  return [
    {
      title: 'Added latency, non-streaming',
      unit: 'µs over direct',
      log: true,
      series: ['p50', 'p99'],
      bars: measured.map((g) => ({ label: g.name, values: pair(g, 'single') })),
    },
    {
      title: 'Added time to first token, streaming',
      unit: 'µs over direct',
      log: true,
      series: ['p50', 'p99'],
      bars: measured.map((g) => ({ label: g.name, values: pair(g, 'ttft') })),
    },
    {
      title: `Highest rate with p99 ≤ ${r.p99LimitMs} ms, one core`,
      unit: 'requests / s',
      log: true,
      series: ['rate'],
      bars: measured.map((g) => ({ label: g.name, values: [g.maxRate?.median ?? Number.NaN] })),
    },
    {
      title: 'Memory (RSS)',
      unit: 'MB',
      log: false,
      series: ['idle', 'under load'],
      bars: measured.map((g) => ({
        label: g.name,
        values: [(g.rss?.idle ?? Number.NaN) / 2 ** 20, (g.rss?.load ?? Number.NaN) / 2 ** 20],
      })),
    },
  ];
}

export function chartSvg(r: PeersResult, caption: string): string {
  const ps = panels(r);
  const height = 70 + Math.ceil(ps.length / 2) * (PANEL_H + 20) + 30;
  const body = ps.map((p, i) =>
    panelSvg(p, 30 + (i % 2) * (PANEL_W + 40), 60 + Math.floor(i / 2) * (PANEL_H + 20)),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="30" y="34" font-size="20" font-weight="bold">Turnout vs. peers in front of the same simulated OpenAI upstream</text>
${body.join('\n')}
<text x="30" y="${height - 14}" font-size="11" fill="#555">${esc(caption)}</text>
</svg>`;
}

export async function writeChart(r: PeersResult, caption: string): Promise<void> {
  const png = new Resvg(chartSvg(r, caption), {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  await writeFile(CHART_PATH, png);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const record = JSON.parse(await readFile(here('./out/peers.json'), 'utf8')) as {
    result: PeersResult;
    date: string;
    machine: string;
  };
  await writeChart(record.result, chartCaption(record));
  process.stdout.write(`wrote ${CHART_PATH}\n`);
}

export function chartCaption(record: { date: string; machine: string }): string {
  return `${record.machine}; ${record.date.slice(0, 10)}; medians of interleaved rounds; bench/RESULTS.md has the method and every number.`;
}
