/**
 * Config files (SPEC "Configuration"): finding the user, project and --config
 * files, and turning each into layers for resolveOptions. A file gives a layer
 * of its top-level keys and, for the env being worked on, a layer of its
 * [env.NAME] table. Keys are checked here (unknown keys are errors naming the
 * file and line); values are checked by resolveOptions through `where(key)`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '../errors.js';
import { validateName } from '../core/names.js';
import { KEY_NAMES, isKeyName } from './schema.js';
import type { Layer } from './layers.js';
import { SPOONRC_KEYS } from './spoonrc-import.js';
import { findConfigFiles } from './discover.js';

export type FileKind = 'user file' | 'project file' | 'config file';

import type { ConfigFiles } from './discover.js';
export type { ConfigFiles } from './discover.js';

// ---- discovery ----

export { findConfigFiles, findProjectFile, userConfigPath } from './discover.js';

// ---- loading ----

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return `${String(v)}`;
  return 'a table';
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a folder, not a file' : err instanceof Error ? err.message : String(err);
    throw new UsageError(`${path}: cannot read the config file: ${reason}`, { cause: err });
  }
}

function parseToml(path: string, text: string): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      // smol-toml's message is "Invalid TOML document: REASON" followed by a code excerpt.
      const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '').trim() || 'syntax error';
      throw new UsageError(`${path}:${err.line}: invalid TOML (column ${err.column}): ${reason}`, { cause: err });
    }
    throw new UsageError(`${path}: invalid TOML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The hint for an unknown key: docker-spoon's name for it, or a near miss, then the known keys. */
export function unknownKeyHint(key: string): string {
  const known = `known keys: ${KEY_NAMES.join(', ')}`;
  const spoonrc = SPOONRC_KEYS[key.replace(/_/g, '-')];
  if (spoonrc !== undefined) return `'${key}' is docker-spoon's name: spoon calls it '${spoonrc}'; ${known}`;
  const near = KEY_NAMES.filter((k) => editDistance(k, key.toLowerCase()) <= Math.min(2, Math.floor(k.length / 3)));
  return near.length > 0 ? `did you mean ${near.map((k) => `'${k}'`).join(' or ')}? ${known}` : known;
}

/**
 * Reads and checks one config file. Returns the layer of its top-level keys and,
 * when `envName` is given and the file has `[env.<envName>]`, the layer of that table.
 */
export function loadConfigFile(path: string, kind: FileKind, envName: string | undefined): Layer[] {
  const text = readText(path);
  const doc = parseToml(path, text);
  const lines = keyLines(text);
  const lineOf = (...keyPath: string[]): number | undefined => {
    for (let n = keyPath.length; n > 0; n--) {
      const line = lines.get(pathId(keyPath.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  };
  const at = (...keyPath: string[]): string => {
    const line = lineOf(...keyPath);
    return line === undefined ? path : `${path}:${line}`;
  };
  const whereIn =
    (...table: string[]) =>
    (key: string): string => {
      const line = lineOf(...table, key);
      return line === undefined ? `${path}: ${key}` : `${path}:${line}: ${key}`;
    };

  const top: Table = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'env') continue;
    if (!isKeyName(key)) throw new UsageError(`${at(key)}: unknown key '${key}'`, { hint: unknownKeyHint(key) });
    top[key] = value;
  }

  // `env` is both the environment-variables key and the home of [env.NAME] tables
  // (SPEC): in [env], plain values are variables for every env, tables are per-env.
  const envHint = 'in [env], plain values are environment variables (EDITOR = "vim") and tables are per-env settings ([env.demo])';
  const envs = doc.env;
  if (envs !== undefined && !isTable(envs)) {
    throw new UsageError(`${at('env')}: 'env' must be a table: environment variables and [env.NAME] tables, got ${describeValue(envs)}`, { hint: envHint });
  }
  const variables: Table = {};
  for (const [name, table] of Object.entries(envs ?? {})) {
    if (!isTable(table)) {
      variables[name] = table;
      continue;
    }
    try {
      validateName(name);
    } catch {
      throw new UsageError(`${at('env', name)}: invalid environment name '${name}' in [env.${name}]`, {
        hint: 'environment names are 1-63 of a-z 0-9 _ . - starting with a letter or digit',
      });
    }
    for (const key of Object.keys(table)) {
      if (!isKeyName(key)) throw new UsageError(`${at('env', name, key)}: unknown key '${key}' in [env.${name}]`, { hint: unknownKeyHint(key) });
    }
  }

  if (Object.keys(variables).length > 0) top.env = variables;

  const baseDir = dirname(resolve(path));
  const layers: Layer[] = [{ kind, origin: path, baseDir, where: whereIn(), values: top }];
  const envTable = envName === undefined || !isTable(envs) || !Object.prototype.hasOwnProperty.call(envs, envName) ? undefined : envs[envName];
  if (isTable(envTable)) {
    layers.push({ kind, origin: `${path} [env.${envName}]`, baseDir, where: whereIn('env', envName!), values: { ...envTable } });
  }
  return layers;
}

/** The layers of every config file that applies, in order: user file, project file, --config file. */
export function configLayers(opts: { cwd: string; env: Record<string, string | undefined>; configFlag?: string; envName?: string }): Layer[] {
  return layersOf(findConfigFiles(opts), opts.envName);
}

/** The layers of files already found. */
export function layersOf(files: ConfigFiles, envName: string | undefined): Layer[] {
  const layers: Layer[] = [];
  if (files.user !== undefined) layers.push(...loadConfigFile(files.user, 'user file', envName));
  if (files.project !== undefined) layers.push(...loadConfigFile(files.project, 'project file', envName));
  if (files.explicit !== undefined) layers.push(...loadConfigFile(files.explicit, 'config file', envName));
  return layers;
}

// ---- where each key sits ----

function pathId(keyPath: string[]): string {
  return keyPath.join('\u0000');
}

/**
 * For every key path in a (valid) TOML document, the 1-based line where it first
 * appears: its `key =` line, the header of a [table] or [[array]], or the line of
 * a dotted key or an inline-table key. smol-toml gives values only, so this is a
 * small scanner of TOML's structure; it does not validate (parse() already did).
 */
export function keyLines(text: string): Map<string, number> {
  const lineStarts = [0];
  for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) lineStarts.push(p + 1);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const lines = new Map<string, number>();
  const note = (keyPath: string[], pos: number): void => {
    const line = lineAt(pos);
    for (let n = 1; n <= keyPath.length; n++) {
      const id = pathId(keyPath.slice(0, n));
      if (!lines.has(id)) lines.set(id, line);
    }
  };

  const n = text.length;
  let i = 0;
  const skipSpaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const skipToEol = (): void => {
    while (i < n && text[i] !== '\n') i++;
  };
  /** Whitespace, newlines and comments (inside arrays and inline tables). */
  const skipBlank = (): void => {
    for (;;) {
      skipSpaces();
      if (text[i] === '\n' || text[i] === '\r') i++;
      else if (text[i] === '#') skipToEol();
      else return;
    }
  };

  const readBasic = (): string => {
    // at the opening quote
    i++;
    let out = '';
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') {
        const e = text[i + 1] ?? '';
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' || e === 'U' || e === 'x') {
          const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
          out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + len), 16) || 0);
          i += 2 + len;
        } else {
          out += e;
          i += 2;
        }
      } else out += text[i++];
    }
    i++;
    return out;
  };
  const readLiteral = (): string => {
    const end = text.indexOf("'", i + 1);
    const s = text.slice(i + 1, end === -1 ? n : end);
    i = end === -1 ? n : end + 1;
    return s;
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const start = i;
      if (text[i] === '"') parts.push(readBasic());
      else if (text[i] === "'") parts.push(readLiteral());
      else {
        while (i < n && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
        parts.push(text.slice(start, i));
      }
      if (i === start) return parts;
      skipSpaces();
      if (text[i] !== '.') return parts;
      i++;
    }
  };

  const skipMultiline = (quote: string, escapes: boolean): void => {
    i += 3;
    while (i < n && !text.startsWith(quote, i)) i += escapes && text[i] === '\\' ? 2 : 1;
    i += 3;
    // Up to two quotes right before the closing delimiter belong to the string.
    for (let extra = 0; extra < 2 && text[i] === quote[0]; extra++) i++;
  };

  const skipValue = (keyPath: string[]): void => {
    const c = text[i];
    if (text.startsWith('"""', i)) skipMultiline('"""', true);
    else if (text.startsWith("'''", i)) skipMultiline("'''", false);
    else if (c === '"') readBasic();
    else if (c === "'") readLiteral();
    else if (c === '[') {
      i++;
      while (i < n) {
        skipBlank();
        if (text[i] === ']') {
          i++;
          return;
        }
        if (text[i] === ',') {
          i++;
          continue;
        }
        const before = i;
        skipValue(keyPath);
        if (i === before) i++;
      }
    } else if (c === '{') {
      i++;
      while (i < n) {
        skipBlank();
        if (text[i] === '}') {
          i++;
          return;
        }
        if (text[i] === ',') {
          i++;
          continue;
        }
        const before = i;
        const key = readKey();
        const full = keyPath.concat(key);
        note(full, before);
        skipSpaces();
        if (text[i] === '=') i++;
        skipSpaces();
        skipValue(full);
        if (i === before) i++;
      }
    } else {
      // number, boolean, date/time (which may hold a space)
      while (i < n && !',]}#\r\n'.includes(text[i]!)) i++;
    }
  };

  let table: string[] = [];
  while (i < n) {
    skipSpaces();
    const c = text[i];
    const start = i;
    if (c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      skipToEol();
      continue;
    }
    if (c === '[') {
      i += text[i + 1] === '[' ? 2 : 1;
      table = readKey();
      note(table, start);
      skipToEol();
      continue;
    }
    const key = readKey();
    const full = table.concat(key);
    note(full, start);
    skipSpaces();
    if (text[i] === '=') i++;
    skipSpaces();
    skipValue(full);
    skipToEol();
    if (i === start) i++;
  }
  return lines;
}
