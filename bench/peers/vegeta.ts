// The open-loop load generator of the rate search: vegeta (github.com/tsenart/vegeta), a Go HTTP load
// tool that sends at a constant rate whatever the answers do. Why not the bench's own openLoop (undici in
// this Node process): straight to the fake upstream, on the same pinned core, the Node generator's own p99
// was 5-40 ms at 200-3,200 req/s (timer-tick dispatch of ~1 ms, and scavenges of 3-10 ms in the generator
// itself), while vegeta's was 0.7-1.6 ms. With a 10 ms p99 limit, the Node generator was measuring itself.
//
// Built once from the Go module proxy (`go install`, pinned version) into
// ${TURNOUT_CACHE:-~/.cache/turnout}/tools/vegeta-<version>/, outside the repo, like the k8s binaries.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OpenLoopResult } from '../load.ts';

export const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12';
export const VEGETA_VERSION = 'v12.13.0';
const run = promisify(execFile);
/** A request not answered within this long counts as an error (far beyond any passing p99). */
const REQUEST_TIMEOUT_S = 10;

const cacheRoot = () => process.env.TURNOUT_CACHE ?? join(homedir(), '.cache', 'turnout');
export const vegetaPath = () => join(cacheRoot(), 'tools', `vegeta-${VEGETA_VERSION}`, 'vegeta');

/** The vegeta binary, built with `go install` on first use. */
export async function ensureVegeta(): Promise<string> {
  const bin = vegetaPath();
  if (existsSync(bin)) return bin;
  const dir = join(bin, '..');
  await mkdir(dir, { recursive: true });
  try {
    await run('go', ['install', `${VEGETA_MODULE}@${VEGETA_VERSION}`], {
      env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
      maxBuffer: 16 * 2 ** 20,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `cannot build vegeta ${VEGETA_VERSION} with go install: ${err.stderr?.trim() || err.message}`,
      {
        cause: e,
      },
    );
  }
  return bin;
}

export interface AttackOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  rps: number;
  seconds: number;
  /** Most connections vegeta opens to the target; requests beyond them wait, and the wait counts. */
  connections: number;
}

/** One line of `vegeta encode --to json`: times in ns, timestamp as RFC 3339 with ns. */
export interface VegetaHit {
  seq: number;
  code: number;
  timestamp: string;
  latency: number;
  error: string;
}

/** vegeta's JSON target format: the body base64, headers as lists. */
export function targetLine(o: Pick<AttackOptions, 'url' | 'body' | 'headers'>): string {
  const header: Record<string, string[]> = { 'Content-Type': ['application/json'] };
  for (const [k, v] of Object.entries(o.headers)) header[k] = [v];
  return JSON.stringify({ method: 'POST', url: o.url, body: Buffer.from(o.body).toString('base64'), header });
}

/**
 * An RFC 3339 timestamp with up to 9 fractional digits as [whole seconds in ms since the epoch, ns within
 * the second]: nanoseconds since the epoch do not fit a double exactly.
 */
export function parseTimestamp(timestamp: string): [wholeMs: number, ns: number] {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  const wholeMs = m?.[1] && m[3] ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (Number.isNaN(wholeMs)) throw new Error(`vegeta timestamp not understood: ${timestamp}`);
  return [wholeMs, Number((m?.[2] ?? '').padEnd(9, '0'))];
}

/**
 * What the attack measured, with each latency counted from the request's due time (µs): vegeta times a
 * request from when it sends it, so a pacer that fell behind would hide queueing. Hit i was due at
 * t0 + i/rate, t0 being the earliest start the hits are consistent with.
 */
export function summarizeHits(hits: readonly VegetaHit[], rps: number, planned: number): OpenLoopResult {
  const intervalNs = 1e9 / rps;
  const refMs = hits.length === 0 ? 0 : parseTimestamp(hits[0]?.timestamp ?? '')[0];
  const sentNs = hits.map((h) => {
    const [wholeMs, ns] = parseTimestamp(h.timestamp);
    return (wholeMs - refMs) * 1e6 + ns;
  });
  let t0 = Number.POSITIVE_INFINITY;
  hits.forEach((h, i) => (t0 = Math.min(t0, (sentNs[i] ?? 0) - h.seq * intervalNs)));
  const latencies: number[] = [];
  let errors = 0;
  let end = t0;
  hits.forEach((h, i) => {
    const done = (sentNs[i] ?? 0) + h.latency;
    end = Math.max(end, done);
    if (h.code !== 200 || h.error !== '') errors++;
    else latencies.push((done - (t0 + h.seq * intervalNs)) / 1000);
  });
  const seconds = hits.length === 0 ? 0 : (end - t0) / 1e9;
  // vegeta stops at the duration, so rate × seconds may round to one hit it never sent; more is a loss.
  const sent = hits.length === planned - 1 ? hits.length : planned;
  return {
    scheduled: sent,
    ok: latencies.length,
    errors: errors + Math.max(0, sent - hits.length),
    latencies,
    seconds,
    achievedRps: seconds > 0 ? latencies.length / seconds : 0,
  };
}

/** Called as the attack process starts and as it exits, before its results are read back. */
export interface AttackWindow {
  started(): void;
  finished(): void;
}

/** Runs `vegeta attack` (inheriting this process's CPU affinity) and reads its results back. */
export async function attack(o: AttackOptions, window?: AttackWindow): Promise<OpenLoopResult> {
  const bin = await ensureVegeta();
  const dir = await mkdtemp(join(tmpdir(), 'turnout-vegeta-'));
  try {
    const targets = join(dir, 'targets.json');
    const results = join(dir, 'results.bin');
    await writeFile(targets, `${targetLine(o)}\n`);
    await runAttack(
      bin,
      [
        'attack',
        '-format=json',
        `-targets=${targets}`,
        `-rate=${o.rps}/1s`,
        `-duration=${o.seconds}s`,
        `-max-connections=${o.connections}`,
        '-http2=false',
        '-max-body=0',
        `-timeout=${REQUEST_TIMEOUT_S}s`,
        `-output=${results}`,
      ],
      window,
    );
    const { stdout } = await run(bin, ['encode', '--to', 'json', results], { maxBuffer: 1024 * 2 ** 20 });
    const hits = stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as VegetaHit);
    return summarizeHits(hits, o.rps, Math.round(o.rps * o.seconds));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runAttack(bin: string, args: string[], window?: AttackWindow): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
    child.once('spawn', () => window?.started());
    child.once('error', reject);
    child.once('exit', (code) => {
      window?.finished();
      if (code === 0) resolve();
      else reject(new Error(`vegeta attack exited ${code}: ${stderr.trim()}`));
    });
  });
}
