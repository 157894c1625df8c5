/**
 * A read-only tmux client on an env's shared session, for watchers that are not
 * terminals (a recording, the web view): its output is the session as a client sees
 * it, drawn at the session's own size. It attaches as a read-only guest does (the env
 * helper's guest-attach: `-f ignore-size,read-only`), so the session ignores its size
 * and what it might send; it runs as the env user over spoon's own ssh connection, with
 * SPOON_WHO set so `who` and the audit log name it.
 *
 * Stand-in with the agreed interface (the web view's helper owns the final version).
 */
import type { Context } from '../core/context.js';
import { connect } from '../core/connect.js';
import { findEnv } from '../core/find-env.js';
import { LABEL } from '../core/labels.js';
import { decodePlan } from '../core/plan.js';
import { NoSuchEnvError, RuntimeError } from '../errors.js';
import { sessionArgs, shellQuote, type SshTarget } from '../ssh/args.js';
import { runCaptured, spawnPipedSsh, exitStatusFor } from '../ssh/spawn.js';
import { DEFAULT_TERM } from '../core/engine-session.js';

export interface Viewer {
  /** Raw terminal bytes. */
  output: NodeJS.ReadableStream;
  cols: number;
  rows: number;
  /** Settles with ssh's status when the client is gone (closed, detached, or the env stopped). */
  closed: Promise<number>;
  close(): void;
}

/** The owner's tmux server, which every member and guest joins (see env-helper.ts). */
export const TMUX_SOCKET = '/run/spoon/tmux.sock';

export async function openViewer(ctx: Context, name: string, opts: { who: string }): Promise<Viewer> {
  const engine = await ctx.engine();
  const container = await findEnv(engine, name, 'spoon-');
  if (!container) throw new NoSuchEnvError(name);
  if (container.state !== 'running') throw new RuntimeError(`${name} is not running`, { hint: `start it with: spoon ${name}` });
  const plan = decodePlan(container.labels[LABEL.plan], container.labels[LABEL.configHash]);
  if (!plan) throw new RuntimeError(`${name} was made by an older spoon, without the record of its settings a viewer needs`);
  const conn = await connect(ctx, name, { plan, explicitSettings: false });
  if (conn.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so it cannot be watched`, { hint: "use an image with openssh-server and tmux 3.3+, like spoon's default" });
  const session = container.labels[LABEL.session] ?? plan.options.session;
  const size = await sessionSize(ctx, name, conn.target, session);
  return attach(ctx, conn.target, session, size, opts.who);
}

/** The session window's size, plus the status line a client draws below it. */
async function sessionSize(ctx: Context, name: string, target: SshTarget, session: string): Promise<{ cols: number; rows: number }> {
  const command = shellQuote(['tmux', '-S', TMUX_SOCKET, 'display-message', '-p', '-t', `=${session}:`, '#{window_width} #{window_height} #{status}']);
  const r = await runCaptured(sessionArgs(target, { tty: false, useMaster: true, forwards: [], forwardAgent: false, command }), (l) => ctx.report.debug(l));
  const m = /^(\d+) (\d+) (\S+)/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new RuntimeError(`${name} has no shared session '${session}' to watch (nobody has attached since it started)`, { hint: `start it with: spoon ${name}` });
  }
  const status = m[3] === 'off' ? 0 : m[3] === 'on' ? 1 : Number(m[3]) || 1;
  return { cols: Number(m[1]), rows: Number(m[2]) + status };
}

function attach(ctx: Context, target: SshTarget, session: string, size: { cols: number; rows: number }, who: string): Viewer {
  // ssh -tt: a terminal is needed though spoon's stdin is none; stty gives it the
  // session's size, since ssh has no terminal of its own to take a size from. tmux -u:
  // the env's locale may not say UTF-8, and the client would draw other text as `_`.
  const tmux = ['env', `TERM=${DEFAULT_TERM}`, `SPOON_WHO=${who.replace(/[\t\n]/g, ' ')}`, 'tmux', '-u', '-S', TMUX_SOCKET, 'attach-session', '-f', 'ignore-size,read-only', '-t', `=${session}`];
  const command = `stty cols ${size.cols} rows ${size.rows} 2>/dev/null; exec ${shellQuote(tmux)}`;
  const child = spawnPipedSsh(['-t', ...sessionArgs(target, { tty: true, useMaster: true, forwards: [], forwardAgent: false, command })], (l) => ctx.report.debug(l));
  child.stderr.on('data', (d: Buffer) => ctx.report.debug(`viewer: ${d.toString().trimEnd()}`));
  const closed = new Promise<number>((resolve) => {
    child.on('error', () => resolve(255));
    child.on('exit', (code, signal) => resolve(code ?? exitStatusFor(signal)));
  });
  return {
    output: child.stdout,
    cols: size.cols,
    rows: size.rows,
    closed,
    close: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
