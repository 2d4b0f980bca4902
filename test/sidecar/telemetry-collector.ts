// A real OpenTelemetry Collector for the OTLP export test, built from Go modules (telemetry-collector/:
// the stock otlp receiver and otlphttp exporter) and cached outside the repo like the control-plane
// binaries. The collector receives the sidecar's OTLP/HTTP protobuf and forwards what it decoded as
// OTLP/JSON to a receiver in the test, so the test reads exactly what a backend would get.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE_DIR = fileURLToPath(new URL('./telemetry-collector/', import.meta.url));
const VERSION = 'v0.162.0';

const cacheRoot = () => process.env.TURNOUT_CACHE ?? join(homedir(), '.cache', 'turnout');

/** Builds the collector when its sources changed since the cached build; returns the binary path. */
export async function ensureCollector(): Promise<string> {
  const dir = join(cacheRoot(), `otelcol-${VERSION}`);
  const bin = join(dir, 'otelcol');
  const stampFile = join(dir, 'stamp');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(join(MODULE_DIR, f)));
  const stamp = hash.digest('hex');
  if (existsSync(bin) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return bin;
  await mkdir(dir, { recursive: true });
  // Module and build caches are Go's defaults (shared with the control-plane builds); -mod=readonly
  // never rewrites the checked-in go.mod/go.sum.
  const built = spawnSync('go', ['build', '-mod=readonly', '-trimpath', '-o', bin, '.'], {
    cwd: MODULE_DIR,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  if (built.error || built.status !== 0)
    throw new Error(`building the OpenTelemetry Collector failed: ${built.error?.message ?? built.stderr}`);
  await writeFile(stampFile, stamp);
  return bin;
}

export interface OtlpJsonReceiver {
  url: string;
  /** Every ExportTraceServiceRequest received, as the collector's JSON. */
  requests: OtlpTraces[];
  close(): Promise<void>;
}

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
}
export interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

/** An OTLP/HTTP JSON endpoint (POST /v1/traces) that keeps what it receives. */
export async function startJsonReceiver(): Promise<OtlpJsonReceiver> {
  const requests: OtlpTraces[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces')
        requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface Collector {
  /** OTLP/HTTP base URL the sidecar exports to (OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint: string;
  log: () => string;
  stop(): Promise<void>;
}

/** Starts the collector: OTLP/HTTP in on a free loopback port, OTLP/JSON out to `forwardTo`. */
export async function startCollector(bin: string, forwardTo: string): Promise<Collector> {
  const dir = await mkdtemp(join(tmpdir(), 'turnout-otelcol-'));
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:${port}" }
exporters:
  otlphttp:
    endpoint: ${forwardTo}
    encoding: json
    compression: none
    retry_on_failure: { enabled: false }
    sending_queue: { enabled: false }
service:
  telemetry:
    metrics: { level: none }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
`,
  );
  const child = spawn(bin, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector not ready within 30 s:\n${text}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      if (text.includes('Everything is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}:\n${text}`));
    });
  });
  await ready;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log: () => text,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** All spans the receiver got, with their resource and scope. */
export function receivedSpans(r: OtlpJsonReceiver) {
  return r.requests.flatMap((req) =>
    (req.resourceSpans ?? []).flatMap((rs) =>
      (rs.scopeSpans ?? []).flatMap((ss) =>
        (ss.spans ?? []).map((span) => ({
          span,
          resource: rs.resource?.attributes ?? [],
          scope: ss.scope?.name,
        })),
      ),
    ),
  );
}

/** An OTLP attribute list as a plain object (ints as numbers, arrays as arrays). */
export function attributes(kvs: readonly OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const plain = (v: OtlpAnyValue): unknown =>
    v.stringValue ??
    v.boolValue ??
    (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
    v.doubleValue ??
    (v.arrayValue ? (v.arrayValue.values ?? []).map(plain) : undefined);
  for (const kv of kvs ?? []) out[kv.key] = plain(kv.value);
  return out;
}
