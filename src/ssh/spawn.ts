/**
 * The one place spoon starts processes (the system OpenSSH client). Arguments are
 * arrays, never shell strings; --debug shows the exact, copyable command line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { shellQuote } from './args.js';
import { RuntimeError } from '../errors.js';

export type CommandObserver = (line: string) => void;

export const SSH_BINARY = process.env.SPOON_SSH ?? 'ssh';

/**
 * Runs ssh with the terminal handed straight to it; resolves with its exit status.
 * While it runs, spoon passes SIGINT, SIGQUIT, SIGTERM and SIGHUP on instead of
 * dying, so ssh decides what they mean and never outlives spoon unattended (a
 * Ctrl-C at the terminal reaches ssh twice, which is harmless).
 */
export function runAttached(args: string[], observe?: CommandObserver): Promise<number> {
  observe?.(`ssh command: ${shellQuote([SSH_BINARY, ...args])}`);
  return new Promise((resolve, reject) => {
    const child = spawn(SSH_BINARY, args, { stdio: 'inherit' });
    const handlers = (['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, () => child.kill(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(sshMissing(err));
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? exitStatusFor(signal));
    });
  });
}

export interface MasterResult {
  ok: boolean;
  /** What ssh said on stderr (host key mismatch, refused, ...). */
  stderr: string;
}

/**
 * Starts a backgrounded ControlMaster (`ssh -f -N -M`). Its stderr goes to a file:
 * the daemonised master keeps the descriptor open, so a pipe would never close.
 */
export async function startMaster(args: string[], controlPath: string, logFile: string, observe?: CommandObserver): Promise<MasterResult> {
  // A master killed hard leaves its socket behind; ssh -M would then silently run without one.
  rmSync(controlPath, { force: true });
  observe?.(`ssh command: ${shellQuote([SSH_BINARY, ...args])}`);
  const fd = openSync(logFile, 'w', 0o600);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(SSH_BINARY, args, { stdio: ['ignore', 'ignore', fd] });
      child.on('error', (err: NodeJS.ErrnoException) => reject(sshMissing(err)));
      child.on('exit', (c, signal) => resolve(c ?? exitStatusFor(signal)));
    });
    const stderr = readFileSync(logFile, 'utf8').trim();
    return { ok: code === 0, stderr };
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts ssh with piped stdio, for a byte stream through it (the engine tunnel). With
 * `ownGroup`, a Ctrl-C at the terminal reaches only spoon, not this ssh: spoon ends it
 * itself once it has written everything (a recording's last lines).
 */
export function spawnPipedSsh(args: string[], observe?: CommandObserver, opts: { ownGroup?: boolean } = {}): ChildProcessWithoutNullStreams {
  observe?.(`ssh command: ${shellQuote([SSH_BINARY, ...args])}`);
  return spawn(SSH_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: opts.ownGroup === true });
}

/** Runs ssh to completion, capturing its output (control commands like `-O exit`). */
export function runCaptured(args: string[], observe?: CommandObserver): Promise<{ code: number; stdout: string; stderr: string }> {
  observe?.(`ssh command: ${shellQuote([SSH_BINARY, ...args])}`);
  return new Promise((resolve, reject) => {
    const child = spawn(SSH_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => reject(sshMissing(err)));
    child.on('close', (code, signal) => resolve({ code: code ?? exitStatusFor(signal), stdout, stderr }));
  });
}

/** Runs a command line on the host with `sh -c` (prebuild), output passed through; resolves with its status. */
export function runHostShell(command: string, cwd: string, observe?: CommandObserver): Promise<number> {
  observe?.(`host command: ${command}`);
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? exitStatusFor(signal)));
  });
}

/**
 * Runs argv on the host in `cwd` (devcontainer.json's initializeCommand); its output goes
 * to spoon's stderr, so that `spoon exec`'s stdout stays the command's. Resolves with its
 * status: 127 when the program is not found, as a shell would say.
 */
export function runHostArgv(argv: string[], cwd: string, observe?: CommandObserver): Promise<number> {
  observe?.(`host command: ${shellQuote(argv)} (in ${cwd})`);
  return new Promise((resolve, reject) => {
    const [file = '', ...args] = argv;
    const child = spawn(file, args, { cwd, stdio: ['ignore', 2, 2] });
    child.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'EACCES' ? resolve(err.code === 'ENOENT' ? 127 : 126) : reject(err)));
    child.on('exit', (code, signal) => resolve(code ?? exitStatusFor(signal)));
  });
}

/** True when a ControlMaster answers on the socket (≈ 1 ms, no process started). */
export function masterAlive(controlPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(controlPath);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function sshMissing(err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT') {
    return new RuntimeError(`the OpenSSH client '${SSH_BINARY}' is not installed`, {
      hint: 'install it (Debian/Ubuntu: apt-get install openssh-client)',
    });
  }
  return err;
}

/** A shell's status for a process ended by `signal`: 128 + its number. */
export function exitStatusFor(signal: NodeJS.Signals | null): number {
  return 128 + (signal ? osConstants.signals[signal] : 1);
}
