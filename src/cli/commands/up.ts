/** `spoon NAME` / `spoon up NAME`: ready the env, then attach to its tmux session. */
import type { Context } from '../../core/context.js';
import { connect, runCommand } from '../../core/connect.js';
import { LOGIN_SHELL } from '../../core/engine-session.js';
import { TMUX_SOCKET } from '../../core/provision.js';
import { HELPER } from '../../pairing/env-helper.js';
import { parseSnapshotRef, validateName } from '../../core/names.js';
import { planEnv, workdirOf, type EnvPlan } from '../../core/plan.js';
import { findEnv } from '../../core/find-env.js';
import { hasCreationSettings } from '../../config/layers.js';
import { inFolder, tmuxAttachCommand } from '../../ssh/args.js';
import { RuntimeError, UsageError } from '../../errors.js';
import { resolveSettings, type Settings } from '../settings.js';
import { recreateConsent } from '../prompt.js';
import { refillFor } from '../refill.js';

interface UpFlags {
  attach: boolean;
  from?: string;
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
  const plan = flags.from === undefined ? planEnv(options, settings.devcontainer) : await planFromSnapshot(ctx, name, flags.from, settings, flags);
  const conn = await connect(ctx, name, { plan, explicitSettings: hasCreationSettings(settings), confirmRecreate: recreateConsent(flags), initializeAlways: true, attach, refillPool: refillFor(ctx, settings) });
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
      ? tmuxAttachCommand(options.session, { shell: options.shell, cwd: workdirOf(plan), ...(conn.kind === 'ssh' ? { socket: TMUX_SOCKET, helper: HELPER } : {}) })
      : inFolder(workdirOf(plan), LOGIN_SHELL));
  const status = await runCommand(ctx, conn, { command, tty: true, forwards: options.forwards, forwardAgent: options.forward_agent, login: options.command === undefined });
  // ssh lost the connection: say so when the env stopped itself for being idle.
  if (status === 255 && conn.kind === 'ssh') {
    const { idleStopNotice } = await import('../../core/idle-stop.js');
    const notice = idleStopNotice(await findEnv(await ctx.engine(), name, options.prefix).catch(() => undefined), name);
    if (notice) ctx.report.info(notice);
  }
  return status;
}

/**
 * `--from NAME:TAG`: the env's image is the snapshot's and its volumes start as the
 * snapshot's copies (restored by ensureEnv before the container is made). Only for a
 * new env: an existing one already has its filesystem.
 */
async function planFromSnapshot(ctx: Context, name: string, from: string, settings: Settings, flags: UpFlags): Promise<EnvPlan> {
  const ref = parseSnapshotRef(from);
  if (flags.image !== undefined || flags.builddir !== undefined) {
    throw new UsageError('--from cannot be combined with --image or --builddir: the snapshot is the image');
  }
  const engine = await ctx.engine();
  const { findSnapshot } = await import('../../core/snapshot.js');
  const snap = await findSnapshot(engine, ref);
  if (await findEnv(engine, name, settings.options.prefix)) {
    throw new RuntimeError(`${name} already exists; --from only creates a new env`, { hint: 'choose another name for the new env' });
  }
  return { ...planEnv({ ...settings.options, image: snap.imageRef, builddir: undefined }, undefined), from: ref };
}
