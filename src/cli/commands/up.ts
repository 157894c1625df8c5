/** `spoon NAME` / `spoon up NAME`: ready the env, then attach to its tmux session. */
import type { Context } from '../../core/context.js';
import { connect, runCommand } from '../../core/connect.js';
import { LOGIN_SHELL } from '../../core/engine-session.js';
import { TMUX_SOCKET } from '../../core/provision.js';
import { validateName } from '../../core/names.js';
import { planEnv, workdirOf } from '../../core/plan.js';
import { hasCreationSettings } from '../../config/layers.js';
import { inFolder, tmuxAttachCommand, withStableAgent } from '../../ssh/args.js';
import { UsageError } from '../../errors.js';
import { resolveSettings } from '../settings.js';
import { recreateConsent } from '../prompt.js';

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
  const plan = planEnv(options, settings.devcontainer);
  const conn = await connect(ctx, name, { plan, explicitSettings: hasCreationSettings(settings), confirmRecreate: recreateConsent(flags) });
  ctx.report.verbose(`ready: ${ctx.timeline.summary()}`);
  if (!attach) {
    const how = conn.kind === 'ssh' ? `ssh on ${conn.target.host}:${conn.target.port}` : 'through the engine';
    ctx.report.info(`${name} is ready (${how}); attach with: spoon ${name}`);
    return 0;
  }
  const useTmux = conn.kind === 'ssh' || conn.tmux;
  const command =
    options.command ??
    (useTmux
      ? tmuxAttachCommand(options.session, { shell: options.shell, cwd: workdirOf(plan), socket: conn.kind === 'ssh' ? TMUX_SOCKET : undefined })
      : inFolder(workdirOf(plan), LOGIN_SHELL));
  const agent = options.forward_agent && conn.kind === 'ssh';
  return runCommand(ctx, conn, { command: agent ? withStableAgent(command) : command, tty: true, forwards: options.forwards, forwardAgent: options.forward_agent });
}
