/** `spoon exec NAME -- CMD...`: CMD's arguments arrive exactly as given; spoon exits with CMD's status. */
import type { Context } from '../../core/context.js';
import { connect, runSession } from '../../core/connect.js';
import { validateName } from '../../core/names.js';
import { shellQuote } from '../../ssh/args.js';
import { resolveCliOptions, type CreateFlags } from '../create-flags.js';

export async function execCommand(ctx: Context, name: string, cmd: string[], flags: CreateFlags): Promise<number> {
  validateName(name);
  const { options, explicitSettings } = resolveCliOptions(flags, ctx.env);
  const { target } = await connect(ctx, name, { options, explicitSettings });
  ctx.report.verbose(`ready: ${ctx.timeline.summary()}`);
  // A terminal for CMD only when spoon has one on both ends, like `docker exec -it`.
  const tty = ctx.interactive.stdin && ctx.interactive.stdout;
  return runSession(ctx, target, { command: shellQuote(cmd), tty, forwards: [] });
}
