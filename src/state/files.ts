/**
 * File writes that never leave a half-written state file behind: write a
 * temporary sibling, then rename over the target.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError, STATE_DIR_HINT, describeCause, fileSystemFault } from '../errors.js';

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw stateError(`cannot create ${path}`, err);
  }
}

export function writeAtomic(path: string, content: string | Buffer, mode = 0o600): void {
  ensureDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, content, { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw stateError(`cannot write ${path}`, err);
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stateError(`cannot read ${path}`, err);
  }
}

/** A failed operation on spoon's own files, said plainly (`cannot write PATH: the disk is full`). */
export function stateError(what: string, err: unknown): RuntimeError {
  return new RuntimeError(`${what}: ${fileSystemFault(err) ?? describeCause(err)}`, { hint: STATE_DIR_HINT, cause: err });
}
