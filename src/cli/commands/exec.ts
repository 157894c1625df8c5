/** `spoon exec NAME -- CMD...`: CMD's arguments arrive exactly as given; spoon exits with CMD's status. */
import type { Context } from '../../core/context.js';
import { connect, runCommand } from '../../core/connect.js';
import { validateName } from '../../core/names.js';
import { planEnv, workdirOf } from '../../core/plan.js';
import { hasCreationSettings } from '../../config/layers.js';
import { inFolder, shellQuote } from '../../ssh/args.js';
import { resolveSettings } from '../settings.js';
import { recreateConsent } from '../prompt.js';
import { refillFor } from '../refill.js';

export async function execCommand(ctx: Context, name: string, cmd: string[], flags: Record<string, unknown>): Promise<number> {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  const plan = planEnv(settings.options, settings.devcontainer);
  const conn = await connect(ctx, name, { plan, explicitSettings: hasCreationSettings(settings), confirmRecreate: recreateConsent(flags), refillPool: refillFor(ctx, settings) });
  ctx.report.verbose(`ready: ${ctx.timeline.summary()}`);
  // A terminal for CMD only when spoon has one on both ends, like `docker exec -it`.
  const tty = ctx.interactive.stdin && ctx.interactive.stdout;
  return runCommand(ctx, conn, { command: inFolder(workdirOf(plan), shellQuote(cmd)), tty, forwards: [], forwardAgent: settings.options.forward_agent });
}
