/**
 * Runs a step that makes something (a container) and undoes it if the step fails
 * or the user interrupts, so no half-made env is left for the next command to
 * trip over. A second Ctrl-C during the undo exits at once.
 */
import type { Reporter } from './context.js';
import { describeCause } from '../errors.js';

export async function undoOnFailure<T>(work: () => Promise<T>, undo: () => Promise<void>, report: Reporter): Promise<T> {
  let undone = false;
  const runUndo = async () => {
    if (undone) return;
    undone = true;
    try {
      await undo();
    } catch (err) {
      report.warn(`could not clean up after the failure: ${describeCause(err)}`);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    report.info(`interrupted: removing what was made so far (Ctrl-C again to quit at once)`);
    void runUndo().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } catch (err) {
    await runUndo();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
