/**
 * spoon's error model. Code that knows what went wrong throws a SpoonError with a
 * user-facing message and, where it helps, a hint. The one error boundary in
 * bin.ts turns it into `spoon: <message>` + hint and an exit code; anything else
 * that reaches it is a bug and is reported as such.
 */

/** 1 runtime failure, 2 usage error; a failed user command passes its own status on. */
export type ExitCode = number;

export interface SpoonErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class SpoonError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, exitCode: ExitCode, options: SpoonErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad command line, NAME, flag value or configuration: exit 2, nothing was touched. */
export class UsageError extends SpoonError {
  constructor(message: string, options: SpoonErrorOptions = {}) {
    super(message, 2, options);
  }
}

/** Something failed at run time (engine down, build failed, timeout, no such env): exit 1. */
export class RuntimeError extends SpoonError {
  constructor(message: string, options: SpoonErrorOptions = {}) {
    super(message, 1, options);
  }
}

/** The engine could not be reached at all. */
export class EngineUnreachableError extends RuntimeError {}

/** The environment the user named does not exist. */
export class NoSuchEnvError extends RuntimeError {
  constructor(name: string) {
    super(`no environment named '${name}'`, { hint: 'run `spoon list` to see the environments spoon knows' });
  }
}

/** A command spoon ran for the user (run_on_create, a lifecycle command) failed: spoon exits with its status. */
export class CommandFailedError extends SpoonError {
  constructor(message: string, status: number, options: SpoonErrorOptions = {}) {
    super(message, status === 0 ? 1 : status, options);
  }
}

/** The user interrupted (Ctrl-C); exit like a shell would. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

const FILE_SYSTEM_FAULTS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

/** Why a file operation failed, in words, for the faults a user can fix (full disk, permissions); undefined for others. */
export function fileSystemFault(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? FILE_SYSTEM_FAULTS[code] : undefined;
}

export const STATE_DIR_HINT = 'spoon keeps its state under $XDG_STATE_HOME/spoon (default ~/.local/state/spoon): free space there, fix its permissions, or point XDG_STATE_HOME elsewhere';

export function describeCause(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
