/**
 * A build context: the files of a folder, less what its .dockerignore excludes
 * (and .git), plus the Dockerfile when it lives outside the folder.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';
import type { BuildRequest } from '../engine/engine.js';

export interface ContextSpec {
  context: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
}

/** Where the engine finds a Dockerfile that is not inside the context. */
const OUTSIDE_DOCKERFILE = '.spoon.Dockerfile';

export function buildContext(spec: ContextSpec): { files: BuildRequest['files']; dockerfile: string } {
  let st;
  try {
    st = lstatSync(spec.context);
  } catch {
    throw new UsageError(`the build folder ${spec.context} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`the build folder ${spec.context} is not a folder`);
  let dockerfileText: Buffer;
  try {
    dockerfileText = readFileSync(spec.dockerfile);
  } catch {
    throw new UsageError(`no Dockerfile at ${spec.dockerfile}`, { hint: 'a build folder needs a Dockerfile' });
  }

  const ignore = ignoreRules(readIfThere(join(spec.context, '.dockerignore')));
  const files: BuildRequest['files'] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      const rel = relative(spec.context, path).split(sep).join('/');
      if (rel === '.git' || isIgnored(rel, ignore)) continue;
      const s = lstatSync(path);
      if (s.isDirectory()) walk(path);
      // A link to a file is sent as that file's content; other links are left out.
      else if (s.isFile() || (s.isSymbolicLink() && isFileBehind(path))) files.push({ path: rel, content: readFileSync(path), mode: statSync(path).mode & 0o7777 });
    }
  };
  walk(spec.context);

  const rel = relative(spec.context, spec.dockerfile).split(sep).join('/');
  if (!rel.startsWith('../') && files.some((f) => f.path === rel)) return { files, dockerfile: rel };
  files.push({ path: OUTSIDE_DOCKERFILE, content: dockerfileText, mode: 0o644 });
  return { files, dockerfile: OUTSIDE_DOCKERFILE };
}

function isFileBehind(link: string): boolean {
  try {
    return statSync(link).isFile();
  } catch {
    return false;
  }
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

interface Rule {
  pattern: RegExp;
  negate: boolean;
}

/** .dockerignore lines: `*`, `**`, `?` globs, `!` exceptions, later lines win. */
function ignoreRules(text: string): Rule[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const glob = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '').replace(/^\.\//, '');
      const body = glob
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      // A pattern that names a folder excludes everything in it.
      return { pattern: new RegExp(`^${body}(/.*)?$`), negate };
    });
}

function isIgnored(rel: string, rules: Rule[]): boolean {
  let ignored = false;
  for (const r of rules) if (r.pattern.test(rel)) ignored = !r.negate;
  return ignored;
}
