// Serving certificate from files, re-read when they change: the chart mounts a Secret that cert-manager
// (or an operator of the cluster) rotates in place, and a restart must not be needed to pick it up.
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:https';

export interface TlsFiles {
  /** Path of the PEM certificate chain. */
  cert: string;
  /** Path of the PEM private key. */
  key: string;
}

export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

/** Polls the files' mtimes and swaps the server's secure context when both are readable. */
export function reloadTlsOnChange(
  server: Server,
  files: TlsFiles,
  intervalMs: number,
  onError: (e: unknown) => void,
): () => void {
  const stamp = () => `${statSync(files.cert).mtimeMs}:${statSync(files.key).mtimeMs}`;
  let last = stamp();
  const timer = setInterval(() => {
    try {
      const now = stamp();
      if (now === last) return;
      server.setSecureContext(readTls(files));
      last = now;
    } catch (e) {
      // Mid-rotation the pair can be inconsistent; keep the old context and try again next tick.
      onError(e);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
