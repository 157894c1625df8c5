/**
 * Runs a step that makes something (a container) and undoes it if the step fails
 * or the user interrupts, so no half-made env is left for the next command to
 * trip over. A second Ctrl-C during the undo exits at once.
 */
import type { Context } from './context.js';
import { describeCause } from '../errors.js';

export async function undoOnFailure<T>(work: () => Promise<T>, undo: () => Promise<void>, ctx: Pick<Context, 'report' | 'proc'>): Promise<T> {
  let undone = false;
  const runUndo = async () => {
    if (undone) return;
    undone = true;
    try {
      await undo();
    } catch (err) {
      ctx.report.warn(`could not clean up after the failure: ${describeCause(err)}`);
    }
  };
  const onSignal = (status: number) => {
    ctx.report.info(`interrupted: removing what was made so far (Ctrl-C again to quit at once)`);
    void runUndo().finally(() => ctx.proc.exit(status));
  };
  // Once each: a second Ctrl-C finds no handler and ends the process at once.
  const onInt = () => onSignal(130);
  const onTerm = () => onSignal(143);
  ctx.proc.once('SIGINT', onInt);
  ctx.proc.once('SIGTERM', onTerm);
  try {
    return await work();
  } catch (err) {
    await runUndo();
    throw err;
  } finally {
    ctx.proc.off('SIGINT', onInt);
    ctx.proc.off('SIGTERM', onTerm);
  }
}
