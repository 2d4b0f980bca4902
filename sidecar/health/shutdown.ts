// The order a sidecar shuts down in (see RunningSidecar.close): fail readiness and refuse new calls at
// once, let calls in flight finish within the drain window, cut the rest, then close the listeners.
import type { Server } from 'node:http';
import { shuttingDown, type Drain, type DrainReport } from './drain.ts';

/** After the drain window: how long cut calls get to flush their error to the caller before sockets close. */
const FLUSH_MS = 1_000;
/** While draining, how often connections left idle by finished calls are closed. */
const IDLE_SWEEP_MS = 100;

export interface ShutdownParts {
  drain: Drain;
  /** The routing server, then any other listener (ops port, transparent TLS) to close after the window. */
  server: Server;
  others: { close(): Promise<void> | void }[];
}

export async function shutdown(parts: ShutdownParts, drainMs: number): Promise<DrainReport> {
  const { drain, server } = parts;
  drain.begin();
  // The listeners stay open through the window, so a new call hears a retriable 503, not a refused
  // connection; idle keep-alive connections, and those finished calls leave idle, are closed.
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  let report;
  try {
    report = await drain.settle(drainMs, (ms) =>
      shuttingDown(
        `the Turnout sidecar is shutting down: this call was cut when its ${ms / 1000} s drain window closed; retry it`,
      ),
    );
  } finally {
    clearInterval(sweep);
  }
  await Promise.all([closeServer(server), ...parts.others.map((o) => o.close())]);
  return report;
}

/** Stops listening; connections still busy (a cut call flushing its error) get FLUSH_MS, then are destroyed. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const force = setTimeout(() => server.closeAllConnections(), FLUSH_MS);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  clearTimeout(force);
}
