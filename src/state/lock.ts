/**
 * A per-env lock between spoon processes on this host: an atomic mkdir holding
 * the owner's pid. A lock whose owner died (Ctrl-C, kill -9) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDir } from './files.js';
import { RuntimeError } from '../errors.js';

export interface Lock {
  release(): void;
}

export async function acquireLock(path: string, what: string, timeoutMs: number, onWait?: () => void): Promise<Lock> {
  ensureDir(dirname(path));
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(join(path, 'pid'), String(process.pid));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(path, { recursive: true, force: true });
      };
      process.once('exit', release);
      return {
        release: () => {
          process.off('exit', release);
          release();
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!ownerAlive(path)) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      onWait?.();
      told = true;
    }
    if (Date.now() > deadline) {
      throw new RuntimeError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for another spoon process working on ${what}`, {
        hint: `if no other spoon is running, remove ${path}`,
      });
    }
    await sleep(50);
  }
}

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(path, 'pid'), 'utf8'));
  } catch {
    // The owner made the directory but has not written its pid yet, or died in between.
    try {
      return Date.now() - statSync(path).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
