/** `spoon forward NAME SPEC...`: holds ssh -L forwards open until Ctrl-C. */
import type { Context } from '../../core/context.js';
import { holdForwards } from '../../core/forward.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { parseForwardSpec } from '../../config/schema.js';
import { resolveSettings } from '../settings.js';

export async function forwardCommand(ctx: Context, name: string, specs: string[], flags: Record<string, unknown>): Promise<number> {
  validateName(name);
  const site = { where: 'spoon forward', baseDir: process.cwd(), home: ctx.env.HOME ?? '/' };
  const forwards = specs.map((s) => parseForwardSpec(s, site));
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return holdForwards(ctx, name, planEnv(settings.options, settings.devcontainer), forwards);
}
