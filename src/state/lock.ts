/**
 * A per-env lock between spoon processes on this host. The lock is a file holding
 * the owner's pid, its start time and a random token, published with link(), which
 * is atomic and fails if the file exists, so nobody ever sees it half-written. A lock
 * whose owner died (Ctrl-C, kill -9) is taken over, also when its pid has since been
 * given to another process: that one started at another time.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDir, stateError } from './files.js';
import { RuntimeError } from '../errors.js';

export interface Lock {
  release(): void;
}

export async function acquireLock(path: string, what: string, timeoutMs: number, onWait?: () => void): Promise<Lock> {
  ensureDir(dirname(path));
  const token = `${process.pid} ${processStartTime(process.pid) ?? '-'} ${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    if (tryPublish(path, token)) return heldLock(path, token);
    const holder = readContent(path);
    if (holder !== undefined && !holderAlive(holder)) {
      takeOver(path, holder);
      continue;
    }
    if (!told) {
      onWait?.();
      told = true;
    }
    if (Date.now() > deadline) {
      throw new RuntimeError(`timed out after ${formatSeconds(timeoutMs)} waiting for another spoon process working on ${what}`, {
        hint: `if no other spoon is running, remove ${path}`,
      });
    }
    await sleep(50);
  }
}

function tryPublish(path: string, token: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, token, { mode: 0o600 });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(`cannot take the lock ${path}`, err);
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function heldLock(path: string, token: string): Lock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Only remove the lock if it is still ours.
    if (readContent(path) === token) rmSync(path, { force: true });
  };
  process.once('exit', release);
  return {
    release: () => {
      process.off('exit', release);
      release();
    },
  };
}

/**
 * Removes a dead holder's lock. Moved aside first and checked, so that when two
 * waiters race, neither deletes a lock the other has just taken.
 */
function takeOver(path: string, deadContent: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  if (readContent(aside) !== deadContent) {
    // We moved a live lock taken in the meantime: put it back if the place is still free.
    try {
      linkSync(aside, path);
    } catch {
      // another waiter got in first; the moved lock's owner then releases nothing of ours
    }
  }
  rmSync(aside, { force: true });
}

function readContent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote a lock (`PID START TOKEN`) still runs. A live pid is
 * not enough: after a crash the kernel may give the pid to any later process, which
 * would hold the lock forever. The start time tells them apart. Locks from an older
 * spoon (`PID TOKEN`), or where the start time cannot be read (`-`: no /proc), go by the
 * pid alone.
 */
function holderAlive(content: string): boolean {
  const fields = content.split(' ');
  const pid = Number(fields[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const recorded = fields.length >= 3 ? fields[1] : undefined;
  if (recorded === undefined || recorded === '-') return true;
  const now = processStartTime(pid);
  return now === undefined || now === recorded;
}

/** When a process started, in clock ticks since boot (Linux); undefined where /proc does not say. */
export function processStartTime(pid: number): string | undefined {
  try {
    return startTimeFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Field 22 (starttime) of /proc/PID/stat. Field 2 is the command name in parentheses,
 * which may itself hold spaces and parentheses, so fields are counted after the last ')'.
 */
export function startTimeFromStat(stat: string): string | undefined {
  const nameEnd = stat.lastIndexOf(')');
  if (nameEnd < 0) return undefined;
  const afterName = stat.slice(nameEnd + 1).trim().split(/\s+/);
  // afterName[0] is field 3 (state), so field 22 is afterName[19].
  const value = afterName[19];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
