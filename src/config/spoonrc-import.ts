/**
 * `spoon config import ~/.spoonrc`: converts docker-spoon's Ruby config file
 * (`options[:image] = 'spoon-pairing'`, one assignment per statement) to spoon's
 * TOML. Only literal values are understood: strings, integers, true/false, nil
 * and arrays of those; `#{ENV['HOME']}` at the start of a path becomes `~` and
 * `#{options[:builddir]}` the value set earlier in the file. Everything else is
 * reported, with its line and why, and left out.
 */
import { KEYS, type KeyName } from './schema.js';

/** docker-spoon's option names (with `_` written as `-`) and the spoon key each became. */
export const SPOONRC_KEYS: Readonly<Record<string, KeyName>> = {
  image: 'image',
  builddir: 'builddir',
  'pre-build-commands': 'prebuild',
  ports: 'ports',
  portforwards: 'forwards',
  'copy-on-create': 'copy',
  'add-authorized-keys': 'authorized_keys',
  'run-on-create': 'run_on_create',
  cpu: 'cpu_shares',
  memory: 'memory',
  dns: 'dns',
  volume: 'volumes',
  privileged: 'privileged',
  prefix: 'prefix',
  command: 'command',
};

/** docker-spoon options with no spoon config key, and why. */
const NOT_CONVERTED: Readonly<Record<string, string>> = {
  url: 'use DOCKER_HOST or --engine for the engine URL',
};

export interface SkippedLine {
  /** 1-based line where the statement starts. */
  line: number;
  text: string;
  why: string;
}

export interface SpoonrcImport {
  toml: string;
  skipped: SkippedLine[];
}

export const IMPORT_HEADER = "# converted from docker-spoon's .spoonrc by spoon config import";

type RubyValue = string | number | boolean | null | RubyValue[];

class Skip extends Error {}

export function importSpoonrc(text: string): SpoonrcImport {
  const skipped: SkippedLine[] = [];
  /** What the Ruby `options` hash holds so far, by normalized name (for `#{options[:x]}`). */
  const ruby = new Map<string, RubyValue>();
  const out = new Map<KeyName, RubyValue>();

  let blockDepth = 0;
  let pos = 0;
  while (pos < text.length) {
    const end = statementEnd(text, pos);
    const source = text.slice(pos, end);
    const line = lineOf(text, pos);
    pos = end + 1;
    const code = source.trim();
    if (code === '' || code.startsWith('#')) continue;
    const shown = source
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' ');
    try {
      // Assignments inside Ruby blocks may or may not run: leave the whole block out.
      if (/^(?:if|unless|case|while|until|for|begin|def|class|module)\b/.test(code) || /\bdo\s*(?:\|[^|]*\|)?\s*(?:#.*)?$/.test(code)) {
        blockDepth++;
        throw new Skip('Ruby control flow cannot be converted');
      }
      if (/^end\b/.test(code)) {
        blockDepth = Math.max(0, blockDepth - 1);
        throw new Skip('Ruby control flow cannot be converted');
      }
      if (/^(?:else|elsif|when|in|rescue|ensure)\b/.test(code)) throw new Skip('Ruby control flow cannot be converted');
      if (blockDepth > 0) throw new Skip('inside a Ruby block, which may not run');
      const { name, value } = new StatementParser(source, ruby).assignment();
      ruby.set(name, value);
      const why = NOT_CONVERTED[name];
      if (why !== undefined) throw new Skip(why);
      const key = SPOONRC_KEYS[name];
      if (key === undefined) throw new Skip(`docker-spoon option '${name}' has no spoon config key`);
      const converted = convert(name, key, value);
      if (converted === undefined) out.delete(key);
      else out.set(key, converted);
    } catch (err) {
      if (!(err instanceof Skip)) throw err;
      skipped.push({ line, text: shown, why: err.message });
    }
  }

  const lines = [IMPORT_HEADER];
  for (const [key, value] of out) lines.push(`${key} = ${tomlValue(value)}`);
  return { toml: `${lines.join('\n')}\n`, skipped };
}

/** The spoon value of one option, or undefined when the option is unset (nil, or docker-spoon's "off" value). */
function convert(name: string, key: KeyName, value: RubyValue): RubyValue | undefined {
  if (value === null) return undefined;
  const isList = Array.isArray(KEYS[key].default);
  if (key === 'authorized_keys' && value === false) return undefined;
  if (key === 'command' && value === '') return undefined;
  if (Array.isArray(value)) {
    if (!isList) throw new Skip(`docker-spoon option '${name}' takes one value, not a list`);
    if (value.some((v) => Array.isArray(v) || v === null)) throw new Skip('nested lists and nil in a list cannot be converted');
    return value;
  }
  if (!isList) return value;
  // docker-spoon split portforwards on spaces; any other list option given one value is a one-element list.
  if (key === 'forwards' && typeof value === 'string') return value.split(/\s+/).filter((s) => s !== '');
  return [value];
}

// ---- TOML output ----

function tomlString(s: string): string {
  const escapes: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\u0000-\u001f\u007f]/g, (c) => escapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

function tomlValue(v: RubyValue): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error('nil has no TOML form');
}

// ---- Ruby ----

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let p = text.indexOf('\n'); p !== -1 && p < pos; p = text.indexOf('\n', p + 1)) line++;
  return line;
}

/** Option names: `:copy_on_create`, `"pre-build-commands"` and `'x'` all name the same option when `_`/`-` are ignored. */
function normalizeName(name: string): string {
  return name.replace(/_/g, '-');
}

/** Index after a single-quoted string that starts at `i`. */
function skipSingle(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === "'") return i + 1;
  }
  return s.length;
}

/** Index after a double-quoted string that starts at `i`, including `#{...}` that hold quotes. */
function skipDouble(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i + 1;
    else if (s[i] === '#' && s[i + 1] === '{') i = skipInterpolation(s, i + 2) - 1;
  }
  return s.length;
}

/** Index after the `}` closing an interpolation whose code starts at `i`. */
function skipInterpolation(s: string, i: number): number {
  let depth = 1;
  while (i < s.length) {
    const c = s[i];
    if (c === "'") i = skipSingle(s, i);
    else if (c === '"') i = skipDouble(s, i);
    else {
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return i + 1;
      i++;
    }
  }
  return s.length;
}

/** Index of the newline that ends the statement starting at `start` (or the text's length): brackets left open continue it. */
function statementEnd(s: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === "'") i = skipSingle(s, i);
    else if (c === '"') i = skipDouble(s, i);
    else if (c === '#') {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === '\n') {
      if (depth <= 0) return i;
      i++;
    } else {
      if (c === '[' || c === '(' || c === '{') depth++;
      else if (c === ']' || c === ')' || c === '}') depth--;
      i++;
    }
  }
  return s.length;
}

const HOME_RE = /^\s*ENV\s*\[\s*(['"])HOME\1\s*\]\s*$/;
const OPTION_RE = /^\s*options\s*\[\s*(?::(\w+[?!]?)|:?"([^"\\#]*)"|:?'([^'\\]*)')\s*\]\s*$/;

/** Parses one `options[KEY] = VALUE` statement; anything else throws Skip. */
class StatementParser {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly ruby: ReadonlyMap<string, RubyValue>,
  ) {}

  assignment(): { name: string; value: RubyValue } {
    this.blank(false);
    const target = /^options\s*\[\s*(?::(\w+[?!]?)|:?"([^"\\#]*)"|:?'([^'\\]*)')\s*\]\s*=(?![=~>])/.exec(this.s.slice(this.i));
    if (!target) {
      if (/^options\s*\[[^\]]*\]\s*(\|\||&&|[-+*/])=/.test(this.s.slice(this.i))) throw new Skip("only plain 'options[:key] = value' assignments can be converted");
      throw new Skip("not an 'options[:key] = value' line");
    }
    this.i += target[0].length;
    const name = normalizeName(target[1] ?? target[2] ?? target[3] ?? '');
    const value = this.value();
    this.blank(false);
    if (this.s[this.i] === ';') {
      this.i++;
      this.blank(false);
    }
    if (this.i < this.s.length) throw new Skip(`unexpected Ruby code after the value: '${this.s.slice(this.i).trim().split('\n')[0]}'`);
    return { name, value };
  }

  /** Spaces, and (inside brackets) newlines; comments run to the end of the line. */
  private blank(newlines: boolean): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.i++;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      else return;
    }
  }

  private value(): RubyValue {
    this.blank(false);
    const rest = this.s.slice(this.i);
    const c = rest[0];
    if (c === '[') return this.array();
    if (c === "'") return this.single();
    if (c === '"') return this.double();
    const words = /^%w([[({<])/.exec(rest) ?? /^%w([^\w\s])/.exec(rest);
    if (words) return this.wordArray(words[1]!);
    const literal = /^(?:(-?\d[\d_]*(?:\.\d[\d_]*)?)|(true|false|nil))(?![\w.?!(:])/.exec(rest);
    if (literal) {
      this.i += literal[0].length;
      if (literal[1] !== undefined) return Number(literal[1].replace(/_/g, ''));
      return literal[2] === 'nil' ? null : literal[2] === 'true';
    }
    const token = /^(?:[^\s,[\]#]|\[[^\]\n]*\])+/.exec(rest)?.[0] ?? rest.trim().split('\n')[0];
    throw new Skip(`the Ruby value '${token}' cannot be converted (only strings, numbers, true/false and lists of them)`);
  }

  private array(): RubyValue[] {
    this.i++; // [
    const items: RubyValue[] = [];
    for (;;) {
      this.blank(true);
      if (this.i >= this.s.length) throw new Skip("a list without its closing ']'");
      if (this.s[this.i] === ']') {
        this.i++;
        return items;
      }
      items.push(this.value());
      this.blank(true);
      if (this.i >= this.s.length) throw new Skip("a list without its closing ']'");
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== ']') throw new Skip(`expected ',' or ']' in a list, got '${(this.s.slice(this.i).split('\n')[0] ?? '').trim()}'`);
    }
  }

  private wordArray(open: string): string[] {
    const close = { '[': ']', '(': ')', '{': '}', '<': '>' }[open] ?? open;
    const start = this.i + 3;
    const end = this.s.indexOf(close, start);
    if (end === -1) throw new Skip(`a %w list without its closing '${close}'`);
    this.i = end + 1;
    return this.s
      .slice(start, end)
      .split(/\s+/)
      .filter((w) => w !== '');
  }

  private single(): string {
    let out = '';
    for (this.i++; this.i < this.s.length; this.i++) {
      const c = this.s[this.i]!;
      if (c === "'") {
        this.i++;
        return out;
      }
      if (c === '\\' && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '\\')) out += this.s[++this.i];
      else out += c;
    }
    throw new Skip('a string without its closing quote');
  }

  private double(): string {
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', s: ' ', e: '\x1b', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
    let out = '';
    for (this.i++; this.i < this.s.length; ) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const e = this.s[this.i + 1] ?? '';
        const unicode = /^u(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]{1,6})\})/.exec(this.s.slice(this.i + 1));
        if (unicode) {
          out += String.fromCodePoint(parseInt(unicode[1] ?? unicode[2] ?? '0', 16));
          this.i += 1 + unicode[0].length;
        } else {
          out += escapes[e] ?? e;
          this.i += 2;
        }
      } else if (c === '#' && this.s[this.i + 1] === '{') {
        const end = skipInterpolation(this.s, this.i + 2);
        const whole = this.s.slice(this.i, end);
        out += this.interpolate(whole, whole.slice(2, -1), out, this.s[end] ?? '');
        this.i = end;
      } else if (c === '#' && /^#[@$][A-Za-z_]/.test(this.s.slice(this.i))) {
        throw new Skip(`Ruby interpolation '${/^#[@$]+\w+/.exec(this.s.slice(this.i))?.[0] ?? '#@'}' cannot be converted`);
      } else {
        out += c;
        this.i++;
      }
    }
    throw new Skip('a string without its closing quote');
  }

  /** `#{ENV['HOME']}` at the start of a path is `~`; `#{options[:x]}` is x's value set earlier in the file. */
  private interpolate(whole: string, code: string, before: string, after: string): string {
    const cannot = `Ruby interpolation '${whole}' cannot be converted`;
    if (HOME_RE.test(code)) {
      const atPathStart = (before === '' || /\s$/.test(before)) && (after === '' || after === '"' || after === '/' || after === ':' || /\s/.test(after));
      if (!atPathStart) throw new Skip(`${cannot} (the home folder becomes '~' only at the start of a path)`);
      return '~';
    }
    const option = OPTION_RE.exec(code);
    if (option) {
      const name = normalizeName(option[1] ?? option[2] ?? option[3] ?? '');
      const value = this.ruby.get(name);
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return String(value);
      throw new Skip(`${cannot} (${code.trim()} is not set earlier in the file)`);
    }
    throw new Skip(cannot);
  }
}
