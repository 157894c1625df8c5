/**
 * The `copy` setting: host files and folders put into a new env before its first
 * start, in the same archive upload as spoon's own files, owned by the login user.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { DirEntry, FileEntry } from '../engine/engine.js';
import type { CopySpec } from '../config/schema.js';
import { UsageError } from '../errors.js';

export interface Owner {
  uid: number;
  gid: number;
  home: string;
}

/** `~` and `~/x` → the user's home in the container. */
export function containerPath(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? posix.join(home, path.slice(2)) : path;
}

export function copyEntries(specs: CopySpec[], owner: Owner): { dirs: DirEntry[]; files: FileEntry[] } {
  const dirs: DirEntry[] = [];
  const files: FileEntry[] = [];
  const own = { uid: owner.uid, gid: owner.gid };
  for (const spec of specs) {
    const target = containerPath(spec.to, owner.home);
    // Parents under the home are made for the user (e.g. ~/.ssh for ~/.ssh/config).
    for (let dir = posix.dirname(target); dir.startsWith(owner.home + '/'); dir = posix.dirname(dir)) {
      if (!dirs.some((d) => d.path === dir)) dirs.unshift({ path: dir, mode: 0o755, ...own });
    }
    walk(spec.from, target, spec.mode, own, dirs, files);
  }
  return { dirs, files };
}

function walk(from: string, to: string, mode: number | undefined, own: { uid: number; gid: number }, dirs: DirEntry[], files: FileEntry[]): void {
  let st;
  try {
    st = lstatSync(from);
  } catch {
    throw new UsageError(`copy: ${from} does not exist`, { hint: 'fix the `copy` setting or create the file' });
  }
  if (st.isDirectory()) {
    dirs.push({ path: to, mode: st.mode & 0o7777, ...own });
    for (const entry of readdirSync(from).sort()) walk(join(from, entry), posix.join(to, entry), mode, own, dirs, files);
  } else if (st.isFile()) {
    files.push({ path: to, content: readFileSync(from), mode: mode ?? st.mode & 0o7777, ...own });
  } else if (st.isSymbolicLink()) {
    // Follow links to files the way `cp -L` would; a link to a folder is copied as its target.
    const target = join(from, '..', readlinkSync(from));
    walk(target, to, mode, own, dirs, files);
  }
}
