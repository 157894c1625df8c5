/**
 * Finding configuration: the user file, the project's spoon.toml or
 * devcontainer.json, and --config. Only file-system checks: the parsers are
 * loaded by the commands that find something to parse.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface ConfigFiles {
  user?: string;
  project?: string;
  explicit?: string;
}

export const PROJECT_FILE = 'spoon.toml';

/** `$XDG_CONFIG_HOME/spoon/config.toml`, `$HOME/.config` when XDG_CONFIG_HOME is unset (or not absolute, per the XDG spec). */
export function userConfigPath(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'spoon', 'config.toml');
}

/** `spoon.toml` in `cwd` or the nearest parent, searching no higher than the git root (the first folder with a `.git` entry). */
export function findProjectFile(cwd: string): string | undefined {
  return findUp(cwd, [PROJECT_FILE]);
}

/**
 * `.devcontainer/devcontainer.json`, else `.devcontainer.json`, in cwd or the nearest
 * parent, up to the git root.
 */
export function findDevcontainer(cwd: string): string | undefined {
  return findUp(cwd, [join('.devcontainer', 'devcontainer.json'), '.devcontainer.json']);
}

/**
 * The first of `names` in `cwd` or the nearest parent, searching no higher than the
 * git root (the first folder with a `.git` entry, inclusive), or up to `/` outside one.
 */
function findUp(cwd: string, names: string[]): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    if (existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findConfigFiles(opts: { cwd: string; env: Record<string, string | undefined>; configFlag?: string }): ConfigFiles {
  const files: ConfigFiles = {};
  const user = userConfigPath(opts.env);
  if (existsSync(user)) files.user = user;
  const project = findProjectFile(opts.cwd);
  if (project !== undefined) files.project = project;
  if (opts.configFlag !== undefined) {
    const flag = opts.configFlag;
    const home = opts.env.HOME || homedir();
    const expanded = flag === '~' ? home : flag.startsWith('~/') ? home + flag.slice(1) : flag;
    const explicit = resolve(opts.cwd, expanded);
    if (flag === '' || !existsSync(explicit)) throw new UsageError(`--config: no such file: ${flag === '' ? "''" : explicit}`);
    files.explicit = explicit;
  }
  return files;
}

