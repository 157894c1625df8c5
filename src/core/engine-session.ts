/**
 * Entering an env through the engine's exec instead of SSH, for images without sshd:
 * binds this process's terminal to the exec like `docker exec -it` does. It behaves
 * like the SSH path (src/ssh/spawn.ts): on a TTY, Ctrl-C and Ctrl-\ are bytes the
 * remote side gets (raw mode), SIGTERM/SIGHUP end the session, and the terminal is
 * restored on every way out.
 */
import { exitStatusFor } from '../ssh/spawn.js';
import type { Engine, ExecProcess } from '../engine/engine.js';
import type { Context, ProcessHooks, Terminal } from './context.js';

/** What a session binds: the terminal, the signals, and the host's TERM (from the CLI's context). */
export type SessionHost = Pick<Context, 'terminal' | 'proc' | 'env'>;

export interface EngineSessionOptions {
  /** The command, as is (no shell parses it). */
  argv: string[];
  user?: string;
  /** `KEY=value` entries; with a TTY, TERM comes from the host's unless given here. */
  env?: string[];
  workdir?: string;
  /** Run on a pseudo-terminal bound to this process's terminal. */
  tty: boolean;
}

export const DEFAULT_TERM = 'xterm-256color';


/** Runs the command in the container with this process's stdio; resolves with its exit status. */
export async function runEngineSession(engine: Engine, containerId: string, opts: EngineSessionOptions, host: SessionHost): Promise<number> {
  const { terminal, proc } = host;
  const stdin = terminal.stdin;
  // With a TTY, the terminal is the input: only when stdin is one (a pipe's EOF would
  // end a TTY exec's output at once; this is `docker exec -t` without -i). Without a
  // TTY, stdin is passed on unless it is a terminal: a pipe or a file, read to its end.
  const attachStdin = opts.tty ? Boolean(stdin.isTTY) : !stdin.isTTY;
  const exec = await engine.exec(containerId, {
    cmd: opts.argv,
    user: opts.user,
    env: opts.tty ? withTerm(opts.env ?? [], host.env.TERM) : opts.env,
    workdir: opts.workdir,
    tty: opts.tty,
    stdin: attachStdin,
  });

  const undo: (() => void)[] = [];
  try {
    if (opts.tty && stdin.isTTY) rawMode(terminal, proc, undo);
    const outcome = bind(exec, terminal, proc, attachStdin, opts.tty, undo);
    const signalled = onSignals(exec, proc, opts.tty, undo);
    // The loser of the race must not surface as an unhandled rejection.
    outcome.catch(() => undefined);
    return await Promise.race([outcome, signalled]);
  } finally {
    for (const step of undo.reverse()) step();
    exec.close();
  }
}

/** TERM for the remote terminal: the caller's, else the host's, else xterm-256color. */
export function withTerm(env: string[], hostTerm: string | undefined): string[] {
  if (env.some((e) => e.startsWith('TERM='))) return env;
  return [`TERM=${hostTerm || DEFAULT_TERM}`, ...env];
}

/** Runs a command in the container through the engine and collects its output (no terminal, no stdin). */
export async function runEngineCaptured(engine: Engine, containerId: string, cmd: string[], opts: { user?: string; env?: string[] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = await engine.exec(containerId, { cmd, tty: false, stdin: false, ...(opts.user ? { user: opts.user } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const collect = async (stream: NodeJS.ReadableStream | undefined) => {
    const chunks: Buffer[] = [];
    if (stream) for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const [stdout, stderr] = await Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  return { code: await proc.wait(), stdout, stderr };
}

/** A login shell: bash when the image has it, else sh (for images without tmux). */
export const LOGIN_SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l';

function rawMode(terminal: Terminal, proc: ProcessHooks, undo: (() => void)[]): void {
  const stdin = terminal.stdin;
  stdin.setRawMode?.(true);
  // A last resort for exits that skip the finally (process.exit from elsewhere).
  const onExit = () => {
    if (stdin.isRaw) stdin.setRawMode?.(false);
  };
  proc.on('exit', onExit);
  undo.push(() => {
    proc.off('exit', onExit);
    onExit();
  });
}

/** Wires stdio to the exec; settles with the exit status once its output is all written. */
function bind(proc: ExecProcess, terminal: Terminal, hooks: ProcessHooks, attachStdin: boolean, tty: boolean, undo: (() => void)[]): Promise<number> {
  const stdin = terminal.stdin;
  proc.stdout.pipe(terminal.stdout, { end: false });
  proc.stderr?.pipe(terminal.stderr, { end: false });
  undo.push(() => {
    proc.stdout.unpipe(terminal.stdout);
    proc.stderr?.unpipe(terminal.stderr);
  });

  if (attachStdin && proc.stdin) {
    const remote = proc.stdin;
    if (stdin.readableEnded) remote.end();
    else stdin.pipe(remote);
    undo.push(() => {
      stdin.unpipe(remote);
      // Stop reading so the terminal (or pipe) no longer holds the event loop.
      stdin.pause();
    });
  }

  if (tty) {
    const resize = () => {
      const size = terminalSize(terminal);
      if (size) proc.resize(size.cols, size.rows).catch(() => undefined);
    };
    const state = { over: false };
    void initialSize(proc, terminal, state);
    hooks.on('SIGWINCH', resize);
    undo.push(() => {
      state.over = true;
      hooks.off('SIGWINCH', resize);
    });
  }

  const drained = (s: NodeJS.ReadableStream | undefined) =>
    new Promise<void>((resolve) => {
      if (!s || (s as { readableEnded?: boolean }).readableEnded) return resolve();
      s.once('end', resolve);
      s.once('close', resolve);
    });
  return Promise.all([proc.wait(), drained(proc.stdout), drained(proc.stderr)]).then(([code]) => code);
}

/** SIGTERM/SIGHUP end the session with 128+n; on a TTY, SIGINT/SIGQUIT are left to the remote side. */
function onSignals(proc: ExecProcess, hooks: ProcessHooks, tty: boolean, undo: (() => void)[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const ignore = () => {};
    if (tty) {
      hooks.on('SIGINT', ignore);
      hooks.on('SIGQUIT', ignore);
      undo.push(() => {
        hooks.off('SIGINT', ignore);
        hooks.off('SIGQUIT', ignore);
      });
    }
    for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
      const handler = () => {
        resolve(exitStatusFor(signal));
        proc.close();
      };
      hooks.on(signal, handler);
      undo.push(() => hooks.off(signal, handler));
    }
  });
}

function terminalSize(terminal: Terminal): { cols: number; rows: number } | undefined {
  for (const s of [terminal.stdout, terminal.stderr]) {
    if (s.isTTY && s.columns && s.rows && s.columns > 0 && s.rows > 0) return { cols: s.columns, rows: s.rows };
  }
  return undefined;
}

/** The first resize can come before the engine has started the process: retry a few times, like the docker CLI. */
async function initialSize(proc: ExecProcess, terminal: Terminal, state: { over: boolean }): Promise<void> {
  for (let attempt = 0; attempt < 10 && !state.over; attempt++) {
    const size = terminalSize(terminal);
    if (!size) return;
    try {
      await proc.resize(size.cols, size.rows);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, (attempt + 1) * 10));
    }
  }
}
