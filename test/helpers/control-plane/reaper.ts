import { spawn } from 'node:child_process';

/** Something that must not outlive the test process: killed synchronously on exit or signal. */
export interface Reapable {
  reapNow(): void;
}

const live = new Set<Reapable>();
let installed = false;

function reapAll(): void {
  for (const item of live) {
    try {
      item.reapNow();
    } catch {
      // Best effort: keep reaping the others.
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  reapAll();
  // We replaced the default action by listening; restore it unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', reapAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
}

/** Registers `item`; the returned function unregisters it (after a normal stop). */
export function track(item: Reapable): () => void {
  install();
  live.add(item);
  return () => live.delete(item);
}

// Runs outside our process: waits for the test process to disappear, then SIGKILLs every pid listed
// in the pid file and removes the work dir. Covers what exit handlers cannot: SIGKILL, OOM kills.
const watchdogScript = `
parent="$1"; dir="$2"; keep="$3"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
if [ -f "$dir/pids" ]; then
  while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$dir/pids"
fi
[ "$keep" = 1 ] || rm -rf "$dir"
`;

/**
 * Starts the out-of-process watchdog for `dir` (which holds the pid file). Returns its pid so a
 * normal stop can end it.
 */
export function startWatchdog(dir: string, keepDir: boolean): number | undefined {
  const args = ['-c', watchdogScript, 'turnout-watchdog', String(process.pid), dir, keepDir ? '1' : '0'];
  const child = spawn('sh', args, {
    detached: true, // its own process group: a Ctrl-C in the terminal must not kill it before it acts
    stdio: 'ignore',
  });
  child.on('error', () => {}); // no sh: we still have the in-process exit handlers
  child.unref();
  return child.pid;
}
