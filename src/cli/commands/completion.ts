/** `spoon completion SHELL`: prints the completion script for the shell. */
import type { Context } from '../../core/context.js';
import { completionScript, completionSpec, type Shell } from '../completion.js';

export async function completionCommand(_ctx: Context, shell: Shell): Promise<number> {
  // The script is made from the command tree, so it always matches this spoon's commands and flags.
  const { buildProgram } = await import('../program.js');
  process.stdout.write(completionScript(shell, completionSpec(buildProgram(() => undefined))));
  return 0;
}
