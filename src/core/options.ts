/**
 * The settings an env is created and attached with, resolved from layers
 * (built-in defaults < SPOON_<KEY> env vars < flags; config files slot in
 * between later) with the source of every value kept for `spoon config`.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { Forward } from '../ssh/args.js';

export interface PortSpec {
  container: number;
  host: number | undefined;
  protocol: 'tcp' | 'udp';
}

export interface EnvOptions {
  /** undefined: spoon's embedded default image. */
  image: string | undefined;
  user: string;
  session: string;
  listen: string;
  prefix: string;
  ports: PortSpec[];
  forwards: Forward[];
  labels: Record<string, string>;
}

/** Values as a user writes them, before parsing: strings and lists of strings. */
export interface RawOptions {
  image?: string;
  user?: string;
  session?: string;
  listen?: string;
  prefix?: string;
  ports?: string[];
  forwards?: string[];
  labels?: string[];
}

export type OptionSource = 'default' | 'env var' | 'flag';
export interface Layer {
  source: OptionSource;
  /** Says where a bad value came from, e.g. `--publish` or `SPOON_USER`. */
  describe: (key: keyof RawOptions) => string;
  values: RawOptions;
}

export interface ResolvedOptions {
  options: EnvOptions;
  sources: Record<keyof EnvOptions, OptionSource>;
}

export const DEFAULTS: Required<RawOptions> = {
  image: '',
  user: 'dev',
  session: 'pair',
  listen: '127.0.0.1',
  prefix: 'spoon-',
  ports: [],
  forwards: [],
  labels: [],
};

const SCALAR_ENV_KEYS = ['image', 'user', 'session', 'listen', 'prefix'] as const;

/** The SPOON_<KEY> layer (scalar keys). */
export function envVarLayer(env: Record<string, string | undefined>): Layer {
  const values: RawOptions = {};
  for (const key of SCALAR_ENV_KEYS) {
    const v = env[`SPOON_${key.toUpperCase()}`];
    if (v !== undefined && v !== '') values[key] = v;
  }
  return { source: 'env var', describe: (k) => `SPOON_${k.toUpperCase()}`, values };
}

export function defaultLayer(): Layer {
  return { source: 'default', describe: (k) => `default ${k}`, values: DEFAULTS };
}

export function resolveOptions(layers: Layer[]): ResolvedOptions {
  const merged: Partial<Record<keyof RawOptions, { value: unknown; layer: Layer }>> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values) as [keyof RawOptions, unknown][]) {
      if (value === undefined) continue;
      // Lists from a later layer replace, like every other key: later wins.
      if (Array.isArray(value) && value.length === 0 && merged[key]) continue;
      merged[key] = { value, layer };
    }
  }
  const pick = <K extends keyof RawOptions>(key: K) => {
    const entry = merged[key];
    if (!entry) throw new Error(`no default for ${key}`);
    return { value: entry.value as Required<RawOptions>[K], where: entry.layer.describe(key), source: entry.layer.source };
  };

  const image = pick('image');
  const user = pick('user');
  const session = pick('session');
  const listen = pick('listen');
  const prefix = pick('prefix');
  const ports = pick('ports');
  const forwards = pick('forwards');
  const labels = pick('labels');

  const options: EnvOptions = {
    image: image.value === '' ? undefined : image.value,
    user: parseUser(user.value, user.where),
    session: parseSession(session.value, session.where),
    listen: parseListen(listen.value, listen.where),
    prefix: parsePrefix(prefix.value, prefix.where),
    ports: ports.value.map((p) => parsePortSpec(p, ports.where)),
    forwards: forwards.value.map((f) => parseForwardSpec(f, forwards.where)),
    labels: Object.fromEntries(labels.value.map((l) => parseLabel(l, labels.where))),
  };
  const sources = {
    image: image.source,
    user: user.source,
    session: session.source,
    listen: listen.source,
    prefix: prefix.source,
    ports: ports.source,
    forwards: forwards.source,
    labels: labels.source,
  };
  return { options, sources };
}

/** What an env was created with; stored as a label so a later change can be noticed. */
export function configHash(o: EnvOptions): string {
  // Order-free: `-p 1 -p 2` and `-p 2 -p 1` create the same env.
  const ports = o.ports.map((p) => `${p.host ?? ''}:${p.container}/${p.protocol}`).sort();
  const labels = Object.entries(o.labels).sort(([a], [b]) => a.localeCompare(b));
  const relevant = { image: o.image ?? null, user: o.user, listen: o.listen, ports, labels };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

function bad(where: string, value: string, why: string, hint?: string): UsageError {
  return new UsageError(`${where}: invalid value '${value}': ${why}`, hint ? { hint } : {});
}

function parseUser(v: string, where: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) throw bad(where, v, 'not a unix user name');
  if (v === 'root') {
    throw bad(where, v, 'spoon does not log in as root (its sshd forbids root login)', 'use a user with sudo, like the default image\'s `dev`');
  }
  return v;
}

function parseSession(v: string, where: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(where, v, 'a tmux session name of letters, digits, _ and -');
  return v;
}

function parseListen(v: string, where: string): string {
  if (!isIP(v)) throw bad(where, v, 'not an IP address', 'use 127.0.0.1 (default), 0.0.0.0 for all interfaces, or one address of this host');
  return v;
}

function parsePrefix(v: string, where: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,30}$/.test(v)) throw bad(where, v, 'a container name prefix of letters, digits, _ . -');
  return v;
}

function parsePort(text: string, where: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw bad(where, whole, `'${text}' is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw bad(where, whole, `port ${n} is outside 1-65535`);
  return n;
}

/** `3000` (container port, engine picks the host port), `8080:80` (host:container), optional `/udp`. */
export function parsePortSpec(spec: string, where: string): PortSpec {
  const m = /^(?:([^:/]+):)?([^:/]+)(?:\/(tcp|udp))?$/.exec(spec.trim());
  if (!m || !m[2]) throw bad(where, spec, 'expected CONTAINER or HOST:CONTAINER, e.g. 3000 or 8080:80');
  return {
    host: m[1] === undefined ? undefined : parsePort(m[1], where, spec),
    container: parsePort(m[2], where, spec),
    protocol: m[3] === 'udp' ? 'udp' : 'tcp',
  };
}

/** `3000` (local 3000 to remote 3000) or `8080:80` (local 8080 to remote 80); bound to loopback. */
export function parseForwardSpec(spec: string, where: string): Forward {
  const m = /^(?:(\d+):)?(\d+)$/.exec(spec.trim());
  if (!m || !m[2]) throw bad(where, spec, 'expected PORT or LOCAL:REMOTE, e.g. 3000 or 8080:80');
  const remotePort = parsePort(m[2], where, spec);
  return { localPort: m[1] === undefined ? remotePort : parsePort(m[1], where, spec), remotePort, bindAddress: '127.0.0.1' };
}

function parseLabel(spec: string, where: string): [string, string] {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (!/^[A-Za-z0-9][A-Za-z0-9_./-]*$/.test(key)) throw bad(where, spec, 'expected KEY=VALUE');
  if (key.startsWith('dev.spoon.')) throw bad(where, spec, 'dev.spoon.* labels are spoon\'s own');
  return [key, eq < 0 ? '' : spec.slice(eq + 1)];
}
