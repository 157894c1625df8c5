/**
 * The one error boundary: parses the command line, runs the command, and turns
 * every failure into `spoon: <what>: <why>` (+ a hint) and an exit code.
 */
import { CommanderError } from 'commander';
import { InterruptedError, STATE_DIR_HINT, SpoonError, describeCause, fileSystemFault } from '../errors.js';
import { rewriteArgv } from './argv.js';
import { buildProgram } from './program.js';

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  if (argv.length === 0) {
    process.stderr.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(rewriteArgv(argv), { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportFailure(err, debug);
  }
}

function reportFailure(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message; help and --version are successes.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof InterruptedError) return 130;
  if (err instanceof SpoonError) {
    process.stderr.write(`spoon: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (debug && err.cause) process.stderr.write(`cause: ${err.cause instanceof Error ? err.cause.stack : String(err.cause)}\n`);
    return err.exitCode;
  }
  // A full disk or a permission problem is the machine's state, not a bug.
  const fault = fileSystemFault(err);
  if (fault) {
    const path = (err as NodeJS.ErrnoException).path;
    process.stderr.write(`spoon: ${path ? `cannot use ${path}` : 'a file operation failed'}: ${fault}\nhint: ${STATE_DIR_HINT}\n`);
    return 1;
  }
  process.stderr.write(`spoon: internal error: ${describeCause(err)}\n`);
  process.stderr.write(debug && err instanceof Error ? `${err.stack}\n` : 'hint: this is a bug in spoon; run again with --debug for the stack trace\n');
  return 1;
}
