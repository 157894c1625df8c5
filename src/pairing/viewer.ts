/**
 * A read-only watcher of an env's shared tmux session, for the web view and recordings:
 * spoon attaches one more tmux client, read-only in the owner's tmux server (the flag a
 * read-only guest's client carries), on a pty the size of the session's window, and hands
 * back that client's raw output. Nothing is ever written to it: its stdin stays open and
 * empty, and the server would refuse the keys of a read-only client anyway.
 *
 * The client's SPOON_WHO is the `who` asked for, so `spoon who` and the audit log name it
 * (the env helper reads SPOON_WHO from the client's environment); see WEB_VIEWER_PREFIX.
 */
import type { Readable } from 'node:stream';
import type { Context } from '../core/context.js';
import { findEnv } from '../core/find-env.js';
import { LABEL } from '../core/labels.js';
import { decodePlan } from '../core/plan.js';
import { NoSuchEnvError, RuntimeError, UsageError } from '../errors.js';
import { connectionOptions, shellQuote, type SshTarget } from '../ssh/args.js';
import { runCaptured, spawnPipedSsh } from '../ssh/spawn.js';
import { HELPER } from './env-helper.js';

export interface Viewer {
  /** Raw terminal bytes, as tmux draws them for a terminal of cols x rows. */
  output: NodeJS.ReadableStream;
  cols: number;
  rows: number;
  /** The exit status of the viewer's connection, once it has ended (close(), detach, env gone). */
  closed: Promise<number>;
  close(): void;
}

// SPOON_WHO of the web view's clients (web-viewer-1, ...), defined with the helper that reads it.
export { WEB_VIEWER_PREFIX } from './env-helper.js';

/**
 * With followResize, a change of the window's size comes in the output as
 * `ESC ] 7177 ; COLS ; ROWS BEL` just before tmux redraws at that size (terminals ignore
 * an OSC they do not know; the web page resizes its terminal).
 */
export const RESIZE_OSC = 7177;

/** The owner's tmux server (env-helper.ts), which every member, guest and viewer joins. */
const TMUX_SOCKET = '/run/spoon/tmux.sock';

// Identities (client-keys.ts) plus what record adds: "alice@laptop (recording)".
const WHO_RE = /^[A-Za-z0-9][A-Za-z0-9._@:+() -]{0,79}$/;

/**
 * Attaches a read-only client to NAME's shared session. The env must be running and its
 * session started (this never creates or starts anything); spoon's key is let in and the
 * host key pinned through the engine if this account has not reached the env before.
 */
/** `prefix`: the container name prefix of the caller's settings (findEnv falls back to the label). */
export async function openViewer(ctx: Context, name: string, opts: { who: string; prefix: string; followResize?: boolean }): Promise<Viewer> {
  if (!WHO_RE.test(opts.who)) throw new UsageError(`invalid viewer name '${opts.who}'`);
  const { target, session } = await reach(ctx, name, opts.prefix);
  // One round trip over the env's ControlMaster: the helper is there, the session exists, its size.
  const probe = [
    `[ -x ${HELPER} ] || exit 3`,
    `tmux -S ${TMUX_SOCKET} has-session -t ${shellQuote([`=${session}`])} 2>/dev/null || exit 4`,
    `tmux -S ${TMUX_SOCKET} display-message -p -t ${shellQuote([`=${session}:`])} '#{window_width} #{window_height} #{status}'`,
  ].join('; ');
  const sized = await runCaptured(['-T', '-S', target.controlPath, '-o', 'ControlMaster=no', ...connectionOptions(target), `${target.user}@${target.host}`, '--', probe], (l) => ctx.report.debug(l));
  if (sized.code === 3) {
    throw new RuntimeError(`${name} was made by an older spoon, without the pairing helper a viewer needs`, { hint: 'recreate it when nobody is working in it (spoon destroy, then spoon up; the home volume is kept)' });
  }
  if (sized.code === 4) throw new RuntimeError(`nobody has started the tmux session of ${name} yet`, { hint: `start it with: spoon ${name}` });
  const size = parseWindowSize(sized.stdout);
  if (sized.code !== 0 || !size) throw new RuntimeError(`cannot read the size of ${name}'s tmux session: ${(sized.stderr || sized.stdout).trim() || `ssh exited with ${sized.code}`}`);

  // The pty is made the window's size before tmux attaches: an ignore-size client draws
  // the window as it is, so the page's terminal shows exactly what the people typing see.
  const windowTarget = shellQuote([`=${session}:`]);
  const follow = opts.followResize
    ? [
        // While the client runs ($$: the shell that becomes it), a changed window size is
        // announced in the stream (an OSC the page acts on) and then given to the pty,
        // whose SIGWINCH makes tmux redraw at the new size.
        `tty=$(tty); me=$$; (last=${size.cols}x${size.rows}; while sleep 1; kill -0 "$me" 2>/dev/null; do`,
        `set -- $(tmux -S ${TMUX_SOCKET} display-message -p -t ${windowTarget} '#{window_width} #{window_height} #{status}' 2>/dev/null) || break;`,
        `case \${3:-} in off) st=0 ;; ''|*[!0-9]*) st=1 ;; *) st=$3 ;; esac; [ -n "\${2:-}" ] || break; r=$(($2 + st));`,
        `[ "$1x$r" = "$last" ] && continue; last=$1x$r;`,
        `printf '\\033]${RESIZE_OSC};%s;%s\\007' "$1" "$r" > "$tty"; stty cols "$1" rows "$r" < "$tty" 2>/dev/null;`,
        `done) < /dev/null > /dev/null 2>&1 &`,
      ].join(' ')
    : ':';
  const attach = [
    `stty cols ${size.cols} rows ${size.rows} 2>/dev/null`,
    follow,
    `TERM=xterm-256color SPOON_WHO=${shellQuote([opts.who])} exec tmux -u -S ${TMUX_SOCKET} attach-session -f ignore-size,read-only -t ${shellQuote([`=${session}`])}`,
  ].join('\n');
  // Its own connection, not a channel of the master: sshd allows a connection 10 sessions,
  // and every browser has a viewer. -tt: a pty although spoon's stdin is no terminal.
  const child = spawnPipedSsh(['-tt', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', ...connectionOptions(target), `${target.user}@${target.host}`, '--', attach], (l) => ctx.report.debug(l));
  child.stderr.resume();
  const closed = new Promise<number>((resolve) => {
    child.once('error', () => resolve(255));
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
  const output: Readable = child.stdout;
  return {
    output,
    cols: size.cols,
    rows: size.rows,
    closed,
    close: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** `#{window_width} #{window_height} #{status}`: the client needs the window plus its status lines. */
export function parseWindowSize(text: string): { cols: number; rows: number } | undefined {
  const m = /^(\d+) (\d+) (\S*)/.exec(text.trim());
  if (!m) return undefined;
  const status = m[3] === 'off' ? 0 : m[3] === 'on' || m[3] === '' ? 1 : Number(m[3]) || 1;
  const cols = Number(m[1]);
  const rows = Number(m[2]) + status;
  return cols > 0 && rows > 0 ? { cols, rows } : undefined;
}

/** The running env over ssh, reached the way its own plan (its label) says, never started or changed. */
async function reach(ctx: Context, name: string, prefix: string): Promise<{ target: SshTarget; session: string }> {
  // findEnv, not a label lookup: an env claimed from the warm pool carries its member's name label.
  const container = await findEnv(await ctx.engine(), name, prefix);
  if (!container) throw new NoSuchEnvError(name);
  if (container.state !== 'running') throw new RuntimeError(`${name} is not running, so there is nothing to watch`, { hint: `start it with: spoon up ${name} -N` });
  if (container.labels[LABEL.connect] !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so it cannot be watched`, { hint: "use an image with openssh-server and tmux 3.3+, like spoon's default" });
  const plan = decodePlan(container.labels[LABEL.plan], container.labels[LABEL.configHash]);
  if (!plan) throw new RuntimeError(`${name} was made by an older spoon, which did not record how`, { hint: 'recreate it when nobody is working in it (spoon destroy, then spoon up; the home volume is kept)' });
  const { connect } = await import('../core/connect.js');
  const conn = await connect(ctx, name, { plan, explicitSettings: false });
  if (conn.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd, so it cannot be watched`);
  return { target: conn.target, session: container.labels[LABEL.session] || plan.options.session };
}
