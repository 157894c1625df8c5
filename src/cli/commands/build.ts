/** `spoon build [DIR] [-t TAG]`: prints the built image's tag on stdout. */
import type { Context } from '../../core/context.js';
import { buildImage } from '../../core/build.js';
import { resolveSettings } from '../settings.js';

export async function buildCommand(ctx: Context, dir: string | undefined, flags: Record<string, unknown>): Promise<number> {
  const settings = await resolveSettings(flags, ctx.env, process.cwd());
  const tag = typeof flags.tag === 'string' ? flags.tag : undefined;
  const built = await buildImage(ctx, settings.options, { dir, tag, cwd: process.cwd() });
  process.stdout.write(`${built.ref}\n`);
  return 0;
}
