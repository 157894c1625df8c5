/**
 * File writes that never leave a half-written state file behind: write a
 * temporary sibling, then rename over the target.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError, describeCause } from '../errors.js';

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

function stateError(what: string, err: unknown): RuntimeError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : describeCause(err);
  return new RuntimeError(`${what}: ${why}`, { hint: 'spoon keeps its state under $XDG_STATE_HOME/spoon (default ~/.local/state/spoon)', cause: err });
}
