/** `spoon NAME` / `spoon up NAME`: ready the env, then attach to its tmux session. */
import type { Context } from '../../core/context.js';
import { connect, runSession } from '../../core/connect.js';
import { validateName } from '../../core/names.js';
import { hasCreationSettings } from '../../config/layers.js';
import { tmuxAttachCommand } from '../../ssh/args.js';
import { UsageError } from '../../errors.js';
import { resolveSettings } from '../settings.js';

interface UpFlags {
  attach: boolean;
  nologin?: boolean;
  [flag: string]: unknown;
}

export async function upCommand(ctx: Context, name: string, flags: UpFlags): Promise<number> {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  const options = settings.options;
  const attach = flags.attach && !flags.nologin;
  if (attach && !(ctx.interactive.stdin && ctx.interactive.stdout)) {
    throw new UsageError(`attaching to ${name} needs a terminal, and this is not one`, {
      hint: `use \`spoon up ${name} -N\` to only make it ready, or \`spoon exec ${name} -- CMD\``,
    });
  }
  const target = await connect(ctx, name, { options, explicitSettings: hasCreationSettings(settings) });
  ctx.report.verbose(`ready: ${ctx.timeline.summary()}`);
  if (!attach) {
    ctx.report.info(`${name} is ready (ssh on ${target.host}:${target.port}); attach with: spoon ${name}`);
    return 0;
  }
  const command = options.command ?? tmuxAttachCommand(options.session, options.shell);
  return runSession(ctx, target, { command, tty: true, forwards: options.forwards, forwardAgent: options.forward_agent });
}
