/**
 * Every configuration key spoon knows (SPEC "Configuration"), each with its
 * parser, default and one-line doc. This table is the single source for
 * validating config files, SPOON_<KEY> variables and flags, and for what
 * `spoon config` prints. Keys are snake_case everywhere: in TOML, in
 * `spoon config --json`, and as the fields of EnvOptions.
 */
import { isAbsolute, posix, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { DURATION_UNITS } from './duration.js';

export { formatDuration } from './duration.js';

export interface PortSpec {
  container: number;
  host: number | undefined;
  protocol: 'tcp' | 'udp';
}

export interface ForwardSpec {
  localPort: number;
  remotePort: number;
  bindAddress: string;
}

export interface CopySpec {
  /** Absolute host path. */
  from: string;
  /** Container path; a leading `~` means the login user's home. */
  to: string;
  /** File mode for copied files; undefined keeps the host file's mode. */
  mode: number | undefined;
}

export interface VolumeSpec {
  type: 'bind' | 'volume';
  /** Absolute host path (bind), volume name, or '' for an anonymous volume. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface EnvOptions {
  /** undefined: spoon's embedded default image (or devcontainer.json, or builddir). */
  image: string | undefined;
  builddir: string | undefined;
  prebuild: string[];
  user: string;
  session: string;
  listen: string;
  ports: PortSpec[];
  forwards: ForwardSpec[];
  copy: CopySpec[];
  authorized_keys: string[];
  run_on_create: string[];
  cpus: number | undefined;
  cpu_shares: number | undefined;
  /** Bytes. */
  memory: number | undefined;
  dns: string[];
  volumes: VolumeSpec[];
  privileged: boolean;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Container paths kept in named volumes; `~` is the login user's home. */
  persist: string[];
  forward_agent: boolean;
  shell: string | undefined;
  command: string | undefined;
  prefix: string;
  /** Seconds of idleness after which the env stops itself; undefined: never. */
  idle_stop: number | undefined;
  /** What kind of engine spoon drives: plain containers (Docker, Podman) or Swarm services. */
  backend: 'docker' | 'swarm';
  /** The swarm node a new env goes on: a node id, hostname or `label=value`; undefined: Swarm's scheduler picks. */
  node: string | undefined;
  /** Envs kept prepared ahead of time for this configuration (the warm pool); 0: off. */
  pool: number;
}

export type KeyName = keyof EnvOptions;

/** Where a value is being read from, for error messages and relative paths. */
export interface ValueSite {
  /** e.g. `spoon.toml:12: ports` or `--publish` or `SPOON_USER`. */
  where: string;
  /** Relative host paths are resolved against this folder. */
  baseDir: string;
  home: string;
}

interface KeySpec<T> {
  doc: string;
  default: T;
  parse(value: unknown, site: ValueSite): T;
  /** Affects only how an env is created (so a change is worth a "recreate" notice). */
  creation: boolean;
}

function fail(site: ValueSite, message: string, hint?: string): never {
  throw new UsageError(`${site.where}: ${message}`, hint ? { hint } : {});
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

// ---- primitive readers: typed TOML values, or the strings of flags and env vars ----

function str(value: unknown, site: ValueSite): string {
  if (typeof value !== 'string') fail(site, `expected a string, got ${show(value)}`);
  return value;
}

function list(value: unknown, site: ValueSite): unknown[] {
  if (Array.isArray(value)) return value;
  // From a flag or env var: one value, or a comma-separated list.
  if (typeof value === 'string') return value === '' ? [] : value.split(',').map((s) => s.trim());
  return fail(site, `expected a list, got ${show(value)}`);
}

function strList(value: unknown, site: ValueSite): string[] {
  return list(value, site).map((v) => str(v, site));
}

function bool(value: unknown, site: ValueSite): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|1|yes|on)$/i.test(value)) return true;
  if (typeof value === 'string' && /^(false|0|no|off)$/i.test(value)) return false;
  return fail(site, `expected true or false, got ${show(value)}`);
}

function number(value: unknown, site: ValueSite): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) fail(site, `expected a number, got ${show(value)}`);
  return n;
}

function map(value: unknown, site: ValueSite): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(site, `${k}: expected a string, got ${show(v)}`);
      out[k] = String(v);
    }
    return out;
  }
  // `["K=V", ...]` or "K=V,K2=V2"
  return Object.fromEntries(
    list(value, site).map((item) => {
      const s = str(item, site);
      const eq = s.indexOf('=');
      if (eq <= 0) fail(site, `expected KEY=VALUE, got '${s}'`);
      return [s.slice(0, eq), s.slice(eq + 1)];
    }),
  );
}

/** `env`: a map whose keys are environment variable names (sshd and the shell would drop or choke on others). */
function envVars(value: unknown, site: ValueSite): Record<string, string> {
  const vars = map(value, site);
  for (const name of Object.keys(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(site, `invalid variable name '${name}': use letters, digits and _, not starting with a digit`);
  }
  return vars;
}

function optional<T>(parse: (v: unknown, s: ValueSite) => T): (v: unknown, s: ValueSite) => T | undefined {
  return (v, s) => (v === '' ? undefined : parse(v, s));
}

function hostPath(path: string, site: ValueSite): string {
  const expanded = path === '~' ? site.home : path.startsWith('~/') ? site.home + path.slice(1) : path;
  return isAbsolute(expanded) ? expanded : resolve(site.baseDir, expanded);
}

function portNumber(text: string, site: ValueSite, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) fail(site, `invalid value '${whole}': '${text}' is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535) fail(site, `invalid value '${whole}': port ${n} is outside 1-65535`);
  return n;
}

// ---- value parsers ----

export function parsePortSpec(value: unknown, site: ValueSite): PortSpec {
  const spec = typeof value === 'number' ? String(value) : str(value, site).trim();
  const m = /^(?:([^:/]+):)?([^:/]+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m || !m[2]) fail(site, `invalid value '${spec}': expected CONTAINER or HOST:CONTAINER, e.g. 3000 or 8080:80`);
  return {
    host: m[1] === undefined ? undefined : portNumber(m[1], site, spec),
    container: portNumber(m[2], site, spec),
    protocol: m[3] === 'udp' ? 'udp' : 'tcp',
  };
}

export function parseForwardSpec(value: unknown, site: ValueSite): ForwardSpec {
  const spec = typeof value === 'number' ? String(value) : str(value, site).trim();
  const m = /^(?:(\d+):)?(\d+)$/.exec(spec);
  if (!m || !m[2]) fail(site, `invalid value '${spec}': expected PORT or LOCAL:REMOTE, e.g. 3000 or 8080:80`);
  const remotePort = portNumber(m[2], site, spec);
  return { localPort: m[1] === undefined ? remotePort : portNumber(m[1], site, spec), remotePort, bindAddress: '127.0.0.1' };
}

/** `/host:/ctr[:ro]` (bind; the host path must exist), `name:/ctr[:ro]` (named volume), `/ctr` (anonymous). */
export function parseVolumeSpec(value: unknown, site: ValueSite): VolumeSpec {
  const spec = str(value, site);
  const parts = spec.split(':');
  const mode = parts.length === 3 || (parts.length === 2 && /^(ro|rw)$/.test(parts[1] ?? '')) ? parts.pop() : undefined;
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') fail(site, `invalid value '${spec}': the mode must be ro or rw`);
  const readOnly = mode === 'ro';
  if (parts.length === 1) {
    const target = parts[0] ?? '';
    if (!target.startsWith('/')) fail(site, `invalid value '${spec}': the container path must be absolute`);
    return { type: 'volume', source: '', target, readOnly };
  }
  if (parts.length !== 2) fail(site, `invalid value '${spec}': expected /host/path:/container/path[:ro] or NAME:/container/path`);
  const [source = '', target = ''] = parts;
  if (!target.startsWith('/')) fail(site, `invalid value '${spec}': the container path '${target}' must be absolute`);
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) return { type: 'volume', source, target, readOnly };
  const path = hostPath(source, site);
  if (!existsSync(path)) fail(site, `invalid value '${spec}': the host path ${path} does not exist`);
  return { type: 'bind', source: path, target, readOnly };
}

export function parseCopySpec(value: unknown, site: ValueSite): CopySpec {
  // docker-spoon's copy_on_create: a path relative to the home, copied to the same place.
  if (typeof value === 'string') {
    const rel = value.replace(/^~\/?/, '');
    if (rel === '') fail(site, `invalid value '${value}': name a file or folder under the home`);
    return { from: hostPath(`~/${rel}`, site), to: `~/${rel}`, mode: undefined };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(site, `expected {from, to, mode?}, got ${show(value)}`);
  const entry = value as Record<string, unknown>;
  for (const k of Object.keys(entry)) if (!['from', 'to', 'mode'].includes(k)) fail(site, `unknown key '${k}' in a copy entry (expected from, to, mode)`);
  const from = hostPath(str(entry.from, { ...site, where: `${site.where}.from` }), site);
  const to = str(entry.to ?? entry.from, { ...site, where: `${site.where}.to` });
  if (!to.startsWith('/') && !to.startsWith('~')) fail(site, `invalid copy destination '${to}': use an absolute path or one under ~`);
  let mode: number | undefined;
  if (typeof entry.mode === 'number') {
    // A TOML octal literal (0o644) arrives as its value; a decimal 644 cannot be told
    // from it below 0o777, and above it is surely meant as octal digits: refuse those.
    if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o777) {
      fail(site, `invalid copy mode ${show(entry.mode)}: write it as a string "0644" or a TOML octal 0o644`);
    }
    mode = entry.mode;
  } else if (entry.mode !== undefined) {
    const text = str(entry.mode, site);
    if (!/^0?[0-7]{3,4}$/.test(text)) fail(site, `invalid copy mode ${show(entry.mode)}: use an octal string like "0644"`);
    mode = parseInt(text, 8);
  }
  return { from, to, mode };
}

/** "512m", "2g", "1024k", "300b" or a number of bytes. */
export function parseMemory(value: unknown, site: ValueSite): number {
  const text = typeof value === 'number' ? String(value) : str(value, site).trim().toLowerCase();
  const m = /^(-?\d+(?:\.\d+)?)\s*([bkmg]?)b?$/.exec(text);
  if (!m || !m[1]) fail(site, `invalid memory '${text}': use a size like 512m or 2g`);
  const bytes = Math.round(Number(m[1]) * { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2] ?? '']!);
  // The engine refuses less than 6 MiB.
  if (bytes < 6 * 1024 ** 2) fail(site, `invalid memory '${text}': the engine needs at least 6m`);
  return bytes;
}

/** "30s", "10m", "2h", "1d" or a combination in that order ("1h30m"); "off" or "0" is none. */
export function parseDuration(value: unknown, site: ValueSite): number | undefined {
  const text = typeof value === 'number' ? String(value) : str(value, site).trim().toLowerCase();
  if (text === 'off' || text === '0') return undefined;
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  const seconds = m ? DURATION_UNITS.reduce((sum, [, unit], i) => sum + Number(m[i + 1] ?? 0) * unit, 0) : 0;
  if (!m || text === '' || !Number.isSafeInteger(seconds) || seconds <= 0) {
    fail(site, `invalid duration ${show(value)}: use a duration like 30s, 10m, 2h, 1d or 1h30m (or "off")`);
  }
  return seconds;
}

function parsePersistPath(value: unknown, site: ValueSite): string {
  const p = str(value, site);
  if (p !== '~' && !p.startsWith('~/') && !p.startsWith('/')) fail(site, `invalid persist path '${p}': use an absolute container path or one under ~`);
  const normal = p.startsWith('/') ? posix.normalize(p).replace(/\/+$/, '') : p.replace(/\/+$/, '');
  if (normal === '~') return normal;
  if (normal === '' || normal === '/') fail(site, `invalid persist path '${p}': name a folder, not the root`);
  return normal;
}

const PUBLIC_KEY_LINE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+)\s+[A-Za-z0-9+/]+={0,3}(\s|$)/;

/** A key line as it is, or a file that holds at least one (checked now, so a bad file stops spoon before it makes anything). */
function parseAuthorizedKey(value: unknown, site: ValueSite): string {
  const entry = str(value, site).trim();
  if (/^(ssh-|ecdsa-|sk-)/.test(entry)) {
    if (!PUBLIC_KEY_LINE.test(entry)) fail(site, `'${entry.slice(0, 40)}' is not an OpenSSH public key line`);
    return entry;
  }
  // docker-spoon's add_authorized_keys named a file in ~/.ssh.
  const path = entry.includes('/') ? hostPath(entry, site) : hostPath(`~/.ssh/${entry}`, site);
  if (!existsSync(path)) fail(site, `the public key file ${path} does not exist`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail(site, `cannot read the public key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (/PRIVATE KEY-----/.test(text)) fail(site, `${path} is a private key; name its public half (${path}.pub)`);
  if (!text.split('\n').some((l) => PUBLIC_KEY_LINE.test(l.trim()))) fail(site, `${path} holds no OpenSSH public key`);
  return path;
}

// ---- the table ----

const k = <T>(spec: KeySpec<T>) => spec;

export const KEYS = {
  image: k<string | undefined>({ doc: 'image to create envs from', default: undefined, creation: true, parse: optional(str) }),
  builddir: k<string | undefined>({
    doc: 'folder with a Dockerfile that `spoon build` builds (and envs use when image is unset)',
    default: undefined,
    creation: true,
    parse: optional((v, s) => hostPath(str(v, s), s)),
  }),
  prebuild: k<string[]>({ doc: 'commands run on the host before `spoon build`', default: [], creation: false, parse: strList }),
  user: k<string>({
    doc: 'login user in the container',
    default: 'dev',
    creation: true,
    parse: (v, s) => {
      const u = str(v, s);
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(u)) fail(s, `invalid value '${u}': not a unix user name`);
      if (u === 'root') fail(s, `invalid value 'root': spoon does not log in as root (its sshd forbids root login)`, "use a user with sudo, like the default image's `dev`");
      return u;
    },
  }),
  session: k<string>({
    doc: 'tmux session name',
    default: 'pair',
    creation: false,
    parse: (v, s) => {
      const name = str(v, s);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) fail(s, `invalid value '${name}': a tmux session name of letters, digits, _ and -`);
      return name;
    },
  }),
  listen: k<string>({
    doc: 'address published ports bind to',
    default: '127.0.0.1',
    creation: true,
    parse: (v, s) => {
      const a = str(v, s);
      if (!isIP(a)) fail(s, `invalid value '${a}': not an IP address`, 'use 127.0.0.1 (default), 0.0.0.0 for all interfaces, or one address of this host');
      return a;
    },
  }),
  ports: k<PortSpec[]>({ doc: 'ports to publish: 3000 or "8080:80"', default: [], creation: true, parse: (v, s) => list(v, s).map((p) => parsePortSpec(p, s)) }),
  forwards: k<ForwardSpec[]>({ doc: 'ssh -L forwards while attached: 3000 or "8080:80"', default: [], creation: false, parse: (v, s) => list(v, s).map((p) => parseForwardSpec(p, s)) }),
  copy: k<CopySpec[]>({
    doc: 'files copied in when an env is created: [{from, to, mode?}]',
    default: [],
    creation: true,
    parse: (v, s) => {
      if (typeof v === 'string') fail(s, 'expected a list of entries like [{from = "~/.gitconfig", to = "~/.gitconfig"}], which only a config file can hold');
      return list(v, s).map((c) => parseCopySpec(c, s));
    },
  }),
  authorized_keys: k<string[]>({ doc: 'more public keys (files or key lines) allowed to log in', default: [], creation: true, parse: (v, s) => list(v, s).map((e) => parseAuthorizedKey(e, s)) }),
  run_on_create: k<string[]>({ doc: 'commands run once, as the user, after the first start', default: [], creation: true, parse: strList }),
  cpus: k<number | undefined>({
    doc: 'CPUs the env may use (e.g. 1.5)',
    default: undefined,
    creation: true,
    parse: optional((v, s) => {
      const n = number(v, s);
      if (n <= 0) fail(s, `invalid value ${show(v)}: cpus must be more than 0`);
      return n;
    }),
  }),
  cpu_shares: k<number | undefined>({
    doc: 'relative CPU weight (docker-spoon: cpu); 0 = the engine default',
    default: undefined,
    creation: true,
    // The engine raises 1 to its minimum of 2, so docker-spoon's `cpu = 1` still works.
    parse: optional((v, s) => {
      const n = number(v, s);
      if (!Number.isInteger(n) || n < 0 || n > 262144) fail(s, `invalid value ${show(v)}: cpu_shares must be a whole number from 0 to 262144`);
      return n === 0 ? undefined : n;
    }),
  }),
  memory: k<number | undefined>({ doc: 'memory limit: 512m, 2g', default: undefined, creation: true, parse: optional(parseMemory) }),
  dns: k<string[]>({
    doc: 'DNS servers',
    default: [],
    creation: true,
    parse: (v, s) =>
      strList(v, s).map((a) => {
        if (!isIP(a)) fail(s, `invalid DNS server '${a}': not an IP address`);
        return a;
      }),
  }),
  volumes: k<VolumeSpec[]>({ doc: 'mounts: "/host:/ctr[:ro]" or "name:/ctr"', default: [], creation: true, parse: (v, s) => list(v, s).map((e) => parseVolumeSpec(e, s)) }),
  privileged: k<boolean>({ doc: 'run the container privileged', default: false, creation: true, parse: bool }),
  env: k<Record<string, string>>({ doc: 'environment variables in the env', default: {}, creation: true, parse: envVars }),
  labels: k<Record<string, string>>({
    doc: 'extra labels on the container and its volumes',
    default: {},
    creation: true,
    parse: (v, s) => {
      const labels = map(v, s);
      for (const key of Object.keys(labels)) if (key.startsWith('dev.spoon.')) fail(s, `invalid label '${key}': dev.spoon.* labels are spoon's own`);
      return labels;
    },
  }),
  persist: k<string[]>({ doc: 'container paths kept in named volumes across destroy', default: ['~'], creation: true, parse: (v, s) => list(v, s).map((p) => parsePersistPath(p, s)) }),
  forward_agent: k<boolean>({ doc: 'forward your ssh agent into the env', default: false, creation: false, parse: bool }),
  shell: k<string | undefined>({ doc: 'program the tmux session starts (default: the login shell)', default: undefined, creation: false, parse: optional(str) }),
  command: k<string | undefined>({ doc: 'remote command run on attach (default: tmux new-session -A -s SESSION)', default: undefined, creation: false, parse: optional(str) }),
  prefix: k<string>({
    doc: 'container name prefix',
    default: 'spoon-',
    creation: true,
    parse: (v, s) => {
      const p = str(v, s);
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,30}$/.test(p)) fail(s, `invalid value '${p}': a container name prefix of letters, digits, _ . -`);
      return p;
    },
  }),
  idle_stop: k<number | undefined>({
    doc: 'stop the env after this long without typing, ssh sessions, forwards or CPU use: 30m, 2h, 1d',
    default: undefined,
    // It is put into the container when it is made (the in-env watcher and its label).
    creation: true,
    parse: optional(parseDuration),
  }),
  backend: k<'docker' | 'swarm'>({
    doc: 'engine kind: docker (containers, also Podman) or swarm (services on a Swarm manager)',
    default: 'docker',
    creation: false,
    parse: (v, s) => {
      const b = str(v, s);
      if (b !== 'docker' && b !== 'swarm') fail(s, `invalid value '${b}': the backend is docker or swarm`);
      return b;
    },
  }),
  node: k<string | undefined>({
    doc: 'swarm node for a new env: node id, hostname or label=value (default: Swarm places it)',
    default: undefined,
    creation: true,
    parse: optional((v, s) => {
      const n = str(v, s).trim();
      if (!/^[A-Za-z0-9_.-]+(=[^\s]*)?$/.test(n)) fail(s, `invalid value '${n}': a node id, hostname or label=value`);
      return n;
    }),
  }),
  pool: k<number>({
    doc: 'envs kept created, started and ready for this configuration, so a new env is claimed instead of created (0: off)',
    default: 0,
    // Not a creation setting: the pool's members and the envs claimed from it are made the same whatever its size.
    creation: false,
    parse: (v, s) => {
      const n = number(v, s);
      if (!Number.isInteger(n) || n < 0 || n > 20) fail(s, `invalid value ${show(v)}: pool must be a whole number from 0 to 20`);
      return n;
    },
  }),
} satisfies { [K in KeyName]: KeySpec<EnvOptions[K]> };

export const KEY_NAMES = Object.keys(KEYS) as KeyName[];

export function isKeyName(key: string): key is KeyName {
  return Object.prototype.hasOwnProperty.call(KEYS, key);
}

export function parseKey<K extends KeyName>(key: K, value: unknown, site: ValueSite): EnvOptions[K] {
  return (KEYS[key] as KeySpec<EnvOptions[K]>).parse(value, site);
}

export function defaultOptions(): EnvOptions {
  return Object.fromEntries(KEY_NAMES.map((key) => [key, structuredClone(KEYS[key].default)])) as unknown as EnvOptions;
}
