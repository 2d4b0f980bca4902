// `turnout` command line. Each subcommand lives in its own module; this file only dispatches.
import { UsageError } from './args.ts';
import { DEV_USAGE, devCommand } from './dev.ts';
import { OPERATOR_USAGE, operatorCommand } from './operator.ts';
import { SIDECAR_USAGE, sidecarCommand } from './sidecar.ts';
import { EXPLAIN_USAGE, explainCommand } from './explain.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  dev: { run: devCommand, usage: DEV_USAGE },
  operator: { run: operatorCommand, usage: OPERATOR_USAGE },
  sidecar: { run: sidecarCommand, usage: SIDECAR_USAGE },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE },
};

function usage(): string {
  return `usage: turnout <command> [flags]\n\ncommands:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage.split('\n').join('\n  ')}`)
    .join('\n\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`turnout: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
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
