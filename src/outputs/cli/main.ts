import { Command, CommanderError } from 'commander';
import { exitStatusByCode, toFlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { commands } from './commands/index.ts';

/** Builds the `flowgate` program with every registered command. */
export function buildProgram(): Command {
  const program = new Command('flowgate')
    .description('The delivery control plane for teams whose code is increasingly written by AI agents')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI and returns the exit status; errors become one line on standard error. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : exitStatusByCode.USAGE;
    const failure = toFlowgateError(error);
    log.debug({ err: failure, code: failure.code }, 'command failed');
    process.stderr.write(`flowgate: ${failure.message} [${failure.code}]\n`);
    if (failure.code === 'INTERNAL' && error instanceof Error && error.stack !== undefined) {
      process.stderr.write(`${error.stack}\n`);
    }
    return exitStatusByCode[failure.code];
  }
}
