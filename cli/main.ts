// `turnout` command line. Each subcommand lives in its own module, loaded only when it runs: the
// sidecar must not pay (in memory and start-up time) for the operator's Kubernetes client, nor the
// operator for the proxy.
import { UsageError } from './args.ts';
import { stdoutBatch } from './line-output.ts';

interface Command {
  run: (argv: string[]) => Promise<number>;
  usage: string;
  /**
   * The process exits as soon as the command returns. The serving commands' shutdown already waited for
   * what matters (calls drained, spans flushed or given up on after 2 s); what may still be pending
   * — an OTLP export to a collector that is down or never answers, retried with backoff until the
   * exporter's own timeout — must not hold the exit back into the pod's SIGKILL.
   */
  exitWhenDone?: boolean;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  dev: async () => {
    const m = await import('./dev.ts');
    return { run: m.devCommand, usage: m.DEV_USAGE, exitWhenDone: true };
  },
  operator: async () => {
    const m = await import('./operator.ts');
    return { run: m.operatorCommand, usage: m.OPERATOR_USAGE };
  },
  sidecar: async () => {
    const m = await import('./sidecar.ts');
    return { run: m.sidecarCommand, usage: m.SIDECAR_USAGE, exitWhenDone: true };
  },
  explain: async () => {
    const m = await import('./explain.ts');
    return { run: m.explainCommand, usage: m.EXPLAIN_USAGE };
  },
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return `usage: turnout <command> [flags]\n\ncommands:\n${commands
    .map((c) => `  ${c.usage.split('\n').join('\n  ')}`)
    .join('\n\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  return (await runCommand(argv)).code;
}

/** Runs a command: its exit code, and whether the process should exit at once (see exitWhenDone). */
async function runCommand(argv: string[]): Promise<{ code: number; exitWhenDone: boolean }> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return { code: name === undefined ? 2 : 0, exitWhenDone: false };
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`turnout: unknown command "${name}"\n\n${await usage()}`);
    return { code: 2, exitWhenDone: false };
  }
  const command = await load();
  const exitWhenDone = command.exitWhenDone === true;
  try {
    return { code: await command.run(rest), exitWhenDone };
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`turnout ${name}: ${e.message}\n\n${command.usage}\n`);
      return { code: 2, exitWhenDone };
    }
    process.stderr.write(`turnout ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return { code: 1, exitWhenDone };
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

if (import.meta.main) {
  const { code, exitWhenDone } = await runCommand(process.argv.slice(2));
  process.exitCode = code;
  if (exitWhenDone) {
    // Batched decision lines first, then whatever the streams still hold, then exit.
    stdoutBatch().flush();
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    process.exit(code);
  }
}
