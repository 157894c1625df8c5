/**
 * Named points in multi-step operations (create, destroy) where an interruption must
 * leave nothing half-made. With SPOON_TEST_PAUSE_AT=PHASE spoon says so on stderr and
 * waits there, so the fault tests can send Ctrl-C at exactly that point instead of
 * guessing with timers. Unset (always, outside tests), a checkpoint costs nothing.
 */
import type { Context } from './context.js';

const PAUSE_MS = 10 * 60_000;

export async function checkpoint(ctx: Context, phase: string): Promise<void> {
  if (ctx.env.SPOON_TEST_PAUSE_AT !== phase) return;
  ctx.terminal.stderr.write(`spoon: paused at ${phase} (SPOON_TEST_PAUSE_AT)\n`);
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
}
