// Holds the snapshot requests are served from. A new snapshot replaces the old one atomically: requests
// already running keep the runtime they started with, and connection pools whose provider settings did
// not change carry over, so a reload neither drops in-flight calls nor cold-starts keep-alive connections.
import type { Snapshot, SnapshotProvider } from '../../api/index.ts';
import { transportKey } from '../providers/http-transport.ts';
import { providerKind } from '../providers/registry.ts';
import type { Transport } from '../providers/types.ts';
import { buildRuntime, type RuntimeProvider, type RuntimeSnapshot } from './runtime.ts';

export type TransportFactory = (spec: SnapshotProvider) => Transport | undefined;

export class SnapshotStore {
  #current: RuntimeSnapshot | undefined;
  #snapshot: Snapshot | undefined;
  #transports = new Map<string, Transport>();
  readonly #listeners = new Set<(s: RuntimeSnapshot) => void>();

  get current(): RuntimeSnapshot | undefined {
    return this.#current;
  }

  /** The snapshot as received (credentials included): for persistence, never for logging. */
  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  load(snapshot: Snapshot): RuntimeSnapshot {
    const next = new Map<string, Transport>();
    const runtime = buildRuntime(snapshot, (spec) => this.#bind(spec, next));
    const retired = [...this.#transports].filter(([key]) => !next.has(key)).map(([, t]) => t);
    this.#transports = next;
    this.#current = runtime;
    this.#snapshot = snapshot;
    for (const t of retired) void t.close().catch(() => undefined);
    for (const listener of this.#listeners) listener(runtime);
    return runtime;
  }

  onLoad(listener: (s: RuntimeSnapshot) => void): void {
    this.#listeners.add(listener);
  }

  #bind(
    spec: SnapshotProvider,
    next: Map<string, Transport>,
  ): Pick<RuntimeProvider, 'adapter' | 'transport' | 'unsupported'> {
    const kind = providerKind(spec.type);
    if (!kind) return { unsupported: `provider type ${spec.type} is not supported by this sidecar version` };
    const key = transportKey(spec);
    const transport = next.get(key) ?? this.#transports.get(key) ?? kind.transport(spec);
    next.set(key, transport);
    return { adapter: kind.adapter, transport };
  }

  async close(): Promise<void> {
    const all = [...this.#transports.values()];
    this.#transports.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
