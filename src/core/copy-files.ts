/**
 * The `copy` setting: host files and folders put into a new env before its first
 * start, in the same archive upload as spoon's own files, owned by the login user.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
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

const HINT = 'fix the `copy` setting or create the file';

/**
 * Symbolic links are followed, as `cp -L` does: a link to a file is copied as that
 * file, a link to a folder as that folder. The kernel resolves them (stat, read), so
 * absolute and relative targets and links within linked folders all land right.
 * `ancestors` are the real paths of the folders being walked, to stop at a link
 * that leads back into one of them.
 */
function walk(from: string, to: string, mode: number | undefined, own: { uid: number; gid: number }, dirs: DirEntry[], files: FileEntry[], ancestors: string[] = []): void {
  const st = statFollowing(from);
  if (st.isDirectory()) {
    const real = realpathSync(from);
    if (ancestors.includes(real)) throw new UsageError(`copy: ${from} leads back to ${real}, a folder it is in`, { hint: 'copy a folder whose links do not point at its own parents' });
    dirs.push({ path: to, mode: st.mode & 0o7777, ...own });
    for (const entry of readdirSync(from).sort()) walk(join(from, entry), posix.join(to, entry), mode, own, dirs, files, [...ancestors, real]);
  } else if (st.isFile()) {
    files.push({ path: to, content: readFileSync(from), mode: mode ?? st.mode & 0o7777, ...own });
  }
  // Sockets, fifos and devices have no content to copy.
}

function statFollowing(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new UsageError(`copy: ${path} is a loop of symbolic links`, { hint: HINT });
    const target = linkTarget(path);
    throw new UsageError(target === undefined ? `copy: ${path} does not exist` : `copy: ${path} links to ${target}, which does not exist`, { hint: HINT });
  }
}

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
