/**
 * The flags that set configuration keys, and the one place the CLI assembles
 * every configuration layer (files, SPOON_* variables, flags) for a command.
 */
import type { Command } from 'commander';
import { envVarLayer, resolveOptions, type Layer, type ResolvedOptions } from '../config/layers.js';
import type { KeyName } from '../config/schema.js';
import { findConfigFiles, findDevcontainer } from '../config/discover.js';
import type { Devcontainer } from '../config/devcontainer.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface FlagDef {
  key: KeyName;
  flags: string;
  doc: string;
  repeatable?: boolean;
  boolean?: boolean;
}

/** Flags that set a config key, on `up` and `exec` (which create envs on demand). */
const CREATE_FLAGS: FlagDef[] = [
  { key: 'image', flags: '--image <ref>', doc: "image to create the env from (default: spoon's embedded image)" },
  { key: 'builddir', flags: '--builddir <dir>', doc: 'build the env image from this folder (its Dockerfile)' },
  { key: 'ports', flags: '-p, --publish <port>', doc: 'publish a port: 3000 (engine picks the host port) or 8080:80; repeatable', repeatable: true },
  { key: 'user', flags: '--user <name>', doc: 'login user in the container (default: dev)' },
  { key: 'listen', flags: '--listen <address>', doc: 'address published ports bind to (default: 127.0.0.1)' },
  { key: 'session', flags: '--session <name>', doc: 'tmux session name (default: pair)' },
  { key: 'labels', flags: '--label <key=value>', doc: 'extra label on the container and its volumes; repeatable', repeatable: true },
  { key: 'prefix', flags: '--prefix <prefix>', doc: 'container name prefix (default: spoon-)' },
  { key: 'env', flags: '-e, --env <key=value>', doc: 'environment variable in the env; repeatable', repeatable: true },
  { key: 'volumes', flags: '--volume <spec>', doc: 'mount /host:/ctr[:ro] or NAME:/ctr; repeatable', repeatable: true },
  { key: 'persist', flags: '--persist <path>', doc: 'container path kept in a named volume across destroy (default: ~); repeatable', repeatable: true },
  { key: 'cpus', flags: '--cpus <n>', doc: 'CPUs the env may use, e.g. 1.5' },
  { key: 'cpu_shares', flags: '--cpu-shares <n>', doc: 'relative CPU weight' },
  { key: 'memory', flags: '--memory <size>', doc: 'memory limit, e.g. 512m or 2g' },
  { key: 'dns', flags: '--dns <ip>', doc: 'DNS server; repeatable', repeatable: true },
  { key: 'privileged', flags: '--privileged', doc: 'run the container privileged', boolean: true },
  { key: 'authorized_keys', flags: '--authorized-key <file>', doc: 'also allow this public key to log in; repeatable', repeatable: true },
  { key: 'run_on_create', flags: '--run-on-create <cmd>', doc: 'command run once after the env is created; repeatable', repeatable: true },
  { key: 'idle_stop', flags: '--idle-stop <duration>', doc: 'stop the env after this long idle (no typing, ssh session, forward or CPU use), e.g. 2h' },
];

/** Global flags that set a config key (program.ts declares them on every command). */
const GLOBAL_FLAGS: FlagDef[] = [
  { key: 'backend', flags: '--backend <kind>', doc: 'docker (default; also Podman) or swarm (envs as services on a Swarm manager)' },
  { key: 'node', flags: '--node <node>', doc: 'swarm backend: node for a new env (node id, hostname or label=value)' },
];

/** Adds the global setting flags to the program. */
export function addGlobalSettingFlags(cmd: Command): Command {
  for (const def of GLOBAL_FLAGS) cmd.option(def.flags, def.doc);
  return cmd;
}

/** Flags for any session in the env, on `up` and `exec`. */
const SESSION_FLAGS: FlagDef[] = [
  { key: 'forward_agent', flags: '-A, --forward-agent', doc: 'forward your ssh agent into the env (SSH_AUTH_SOCK=~/.ssh/spoon-agent.sock there)', boolean: true },
];

/** Flags that shape the attached session, on `up` only. */
const ATTACH_FLAGS: FlagDef[] = [
  { key: 'forwards', flags: '-L, --forward <port>', doc: 'forward a local port over ssh while attached: 3000 or 8080:80; repeatable', repeatable: true },
  { key: 'shell', flags: '--shell <program>', doc: 'program a new tmux session starts (default: the login shell)' },
  { key: 'command', flags: '--command <cmd>', doc: 'remote command to run instead of attaching to tmux' },
];

export function addSettingFlags(cmd: Command, withAttachFlags: boolean): Command {
  for (const def of [...CREATE_FLAGS, ...SESSION_FLAGS, ...(withAttachFlags ? ATTACH_FLAGS : [])]) {
    if (def.repeatable) cmd.option(def.flags, def.doc, collect);
    else cmd.option(def.flags, def.doc);
  }
  return cmd;
}

/** The commander option property a flag lands in, e.g. `--cpu-shares` → cpuShares. */
function propertyOf(def: FlagDef): string {
  const long = /--([a-z-]+)/.exec(def.flags)?.[1] ?? def.key;
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function flagLayer(opts: Record<string, unknown>, cwd: string): Layer {
  const values: Record<string, unknown> = {};
  const where: Record<string, string> = {};
  for (const def of [...CREATE_FLAGS, ...SESSION_FLAGS, ...ATTACH_FLAGS, ...GLOBAL_FLAGS]) {
    const v = opts[propertyOf(def)];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    values[def.key] = v;
    where[def.key] = /--[a-z-]+/.exec(def.flags)?.[0] ?? def.key;
  }
  return { kind: 'flag', origin: 'command line', baseDir: cwd, where: (k) => where[k] ?? `--${k}`, values };
}

export interface Settings extends ResolvedOptions {
  layers: Layer[];
  /** The project's devcontainer.json, when it is what configures the env. */
  devcontainer: Devcontainer | undefined;
}

/**
 * Every layer for env `name`, resolved: user file < devcontainer.json < project
 * spoon.toml < --config file < SPOON_* variables < flags. devcontainer.json counts
 * only when nothing else names an image or a builddir (SPEC).
 */
export async function resolveSettings(opts: Record<string, unknown>, env: Record<string, string | undefined>, cwd: string, name?: string): Promise<Settings> {
  const home = env.HOME ?? '/';
  const configFlag = typeof opts.config === 'string' ? opts.config : undefined;
  const found = findConfigFiles({ cwd, env, ...(configFlag ? { configFlag } : {}) });
  // The TOML and JSONC parsers load only when there is a file to parse (start-up cost).
  const files = found.user || found.project || found.explicit ? (await import('../config/files.js')).layersOf(found, name) : [];
  const rest = [envVarLayer(env, cwd), flagLayer(opts, cwd)];
  let layers = [...files, ...rest];
  let resolved = resolveOptions(layers, home);
  let devcontainer: Devcontainer | undefined;
  if (resolved.options.image === undefined && resolved.options.builddir === undefined) {
    const path = findDevcontainer(cwd);
    if (path) {
      const { loadDevcontainer } = await import('../config/devcontainer.js');
      devcontainer = loadDevcontainer(path, { env, home });
      const userFiles = files.filter((l) => l.kind === 'user file').length;
      layers = [...files.slice(0, userFiles), devcontainer.layer, ...files.slice(userFiles), ...rest];
      resolved = resolveOptions(layers, home);
    }
  }
  return { ...resolved, layers, devcontainer };
}

/**
 * The backend alone, for connecting to the engine: config files, SPOON_BACKEND and
 * --backend, without devcontainer.json (it says nothing about the engine).
 */
export async function resolveBackend(opts: Record<string, unknown>, env: Record<string, string | undefined>, cwd: string): Promise<'docker' | 'swarm'> {
  // A flag or variable wins over any file: no file is read then.
  let files: Layer[] = [];
  if (typeof opts.backend !== 'string' && !env.SPOON_BACKEND) {
    const configFlag = typeof opts.config === 'string' ? opts.config : undefined;
    const found = findConfigFiles({ cwd, env, ...(configFlag ? { configFlag } : {}) });
    if (found.user || found.project || found.explicit) files = (await import('../config/files.js')).layersOf(found, undefined);
  }
  return resolveOptions([...files, envVarLayer(env, cwd), flagLayer(opts, cwd)], env.HOME ?? '/').options.backend;
}
