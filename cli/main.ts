// `turnout` command line. Each subcommand lives in its own module, loaded only when it runs: the
// sidecar must not pay (in memory and start-up time) for the operator's Kubernetes client, nor the
// operator for the proxy.
import { UsageError } from './args.ts';

interface Command {
  run: (argv: string[]) => Promise<number>;
  usage: string;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  dev: async () => {
    const m = await import('./dev.ts');
    return { run: m.devCommand, usage: m.DEV_USAGE };
  },
  operator: async () => {
    const m = await import('./operator.ts');
    return { run: m.operatorCommand, usage: m.OPERATOR_USAGE };
  },
  sidecar: async () => {
    const m = await import('./sidecar.ts');
    return { run: m.sidecarCommand, usage: m.SIDECAR_USAGE };
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
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`turnout: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const command = await load();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`turnout ${name}: ${e.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`turnout ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
