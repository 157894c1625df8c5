/**
 * devcontainer.json support (SPEC "Configuration"): finds the project's
 * devcontainer.json, reads it as JSONC, and turns the properties spoon honours
 * into a config `Layer` of spoon keys (validated by schema.ts, like any other
 * layer) plus the devcontainer-only settings spoon acts on itself (build,
 * remoteEnv, lifecycle commands, capabilities, the workspace mount).
 *
 * Every message names the file, the line and column, and the property.
 * Properties spoon cannot honour are errors when ignoring them would build a
 * different environment than the file asks for (Docker Compose, features that cannot be read,
 * unknown runArgs, unknown variables), and warnings otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, posix, resolve } from 'node:path';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';

/** jsonc-parser's error codes (`ValueExpected`) in words (`value expected`). */
function parseErrorText(code: ParseError['error']): string {
  return printParseErrorCode(code)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}
import { UsageError, describeCause } from '../errors.js';
import { KEY_NAMES, isKeyName, parseKey, type KeyName, type VolumeSpec } from './schema.js';
import type { Layer } from './layers.js';
import { loadLocalFeature, parseFeatureId, type FeatureRef, type OptionValue } from './features.js';

/** string: run with `sh -c`; string[]: an argv, no shell. */
export interface LifecycleStep {
  /** The key in the object form; undefined for the string and array forms. */
  name: string | undefined;
  command: string | string[];
}

/** Outer: run in order; inner: run in parallel (the object form). A string or array form is `[[step]]`; no command is `[]`. */
export type LifecycleCommand = LifecycleStep[][];

export const USER_ENV_PROBES = ['none', 'loginShell', 'interactiveShell', 'loginInteractiveShell'] as const;
export type UserEnvProbe = (typeof USER_ENV_PROBES)[number];

/** The lifecycle commands, in the order the devcontainers CLI runs them. */
export interface Lifecycle {
  /** On the host, in the project folder, before spoon creates or starts the env. */
  initialize: LifecycleCommand;
  onCreate: LifecycleCommand;
  updateContent: LifecycleCommand;
  postCreate: LifecycleCommand;
  postStart: LifecycleCommand;
  postAttach: LifecycleCommand;
}

/** The lifecycle command `waitFor` names: spoon attaches once it has finished (devcontainers' default: updateContentCommand). */
export type WaitFor = 'initializeCommand' | 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand';
const WAIT_FOR: readonly WaitFor[] = ['initializeCommand', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand'];

/** `hostRequirements` spoon checks against the engine before it creates an env; each with where it was set. */
export interface HostRequirements {
  cpus?: { count: number; where: string };
  /** Bytes. */
  memory?: { bytes: number; text: string; where: string };
}

export interface DevcontainerBuild {
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the build context. */
  context: string;
  args: Record<string, string>;
  target: string | undefined;
}

export interface Devcontainer {
  /** Absolute path of devcontainer.json. */
  file: string;
  /** The local project folder: the folder containing .devcontainer/ (or containing .devcontainer.json). */
  workspaceFolder: string;
  /** The folder the project is at in the container (`${containerWorkspaceFolder}`): the `workspaceFolder` property, else the workspace mount's target. */
  containerWorkspaceFolder: string;
  /** Spoon keys, in the raw forms schema.ts parses; `where(key)` is `FILE:LINE:COL: <property>`. */
  layer: Layer;
  build: DevcontainerBuild | undefined;
  remoteEnv: Record<string, string>;
  /** How the user's shell env is probed for exec and lifecycle commands; undefined: not set (the devcontainers CLI's default, loginInteractiveShell). */
  userEnvProbe?: UserEnvProbe | undefined;
  containerUser: string | undefined;
  capAdd: string[];
  securityOpt: string[];
  init: boolean;
  /** A bind mount of the project; undefined when `workspaceMount` is "" (no workspace mount). */
  workspaceMount: { source: string; target: string } | undefined;
  lifecycle: Lifecycle;
  waitFor: WaitFor;
  hostRequirements: HostRequirements;
  /** The `features` entries, in the file's order (local ones already checked). */
  features: FeatureRef[];
  /** overrideFeatureInstallOrder, as written. */
  featureOrder: string[];
  /** remoteUser as written (spoon's own login user is the `user` key); the features' _REMOTE_USER. */
  remoteUser: string | undefined;
  /** One line each, starting with the property they are about. */
  warnings: string[];
  /** The devcontainers CLI's identifying labels. */
  labels: Record<string, string>;
}

export interface LoadDevcontainerOptions {
  /** For `${localEnv:X}` and `runArgs` `-e NAME` (which, like docker, takes the host's value). */
  env: Record<string, string | undefined>;
  /** For `~` in host paths while checking values; default `env.HOME`, else the OS's idea of home. */
  home?: string;
}


export { findDevcontainer } from './discover.js';
import { isFile } from './discover.js';

export function loadDevcontainer(path: string, opts: LoadDevcontainerOptions): Devcontainer {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read devcontainer.json: ${describeCause(err)}`);
  }
  return new Loader(file, text, opts).load();
}

// ---------------------------------------------------------------------------

/** Properties of the devcontainer.json reference that spoon has no use for; ignored without a word. */
const IGNORED = new Set([
  '$schema',
  'name',
  'portsAttributes',
  'otherPortsAttributes',
  'overrideCommand',
  'updateRemoteUserUID',
  'secrets',
  // The pre-`customizations` home of VS Code's settings and extensions.
  'extensions',
  'settings',
]);

const HANDLED = new Set([
  'image',
  'build',
  'dockerFile',
  'context',
  'dockerComposeFile',
  'features',
  'overrideFeatureInstallOrder',
  'workspaceFolder',
  'workspaceMount',
  'appPort',
  'forwardPorts',
  'mounts',
  'containerEnv',
  'remoteEnv',
  'userEnvProbe',
  'remoteUser',
  'containerUser',
  'privileged',
  'capAdd',
  'securityOpt',
  'init',
  'runArgs',
  'onCreateCommand',
  'postCreateCommand',
  'postStartCommand',
  'initializeCommand',
  'updateContentCommand',
  'postAttachCommand',
  'waitFor',
  'hostRequirements',
  'shutdownAction',
  'customizations',
]);

const SUPPORTED_RUN_ARGS = '--cpus --memory --dns -e -v --privileged --cap-add --security-opt --init';

type RunArg = 'cpus' | 'memory' | 'dns' | 'env' | 'volume' | 'privileged' | 'capAdd' | 'securityOpt' | 'init';
const RUN_ARGS: Record<string, RunArg> = {
  '--cpus': 'cpus',
  '--memory': 'memory',
  '-m': 'memory',
  '--dns': 'dns',
  '-e': 'env',
  '--env': 'env',
  '-v': 'volume',
  '--volume': 'volume',
  '--privileged': 'privileged',
  '--cap-add': 'capAdd',
  '--security-opt': 'securityOpt',
  '--init': 'init',
};
const BOOLEAN_RUN_ARGS = new Set<RunArg>(['privileged', 'init']);

const VARIABLES = '${localEnv:NAME}, ${localEnv:NAME:default}, ${localWorkspaceFolder}, ${localWorkspaceFolderBasename}, ${containerWorkspaceFolder}, ${containerWorkspaceFolderBasename}, ${devcontainerId}';

interface Prop {
  name: string;
  key: Node;
  value: Node;
}

interface Site {
  loc: string;
  prop: string;
}

interface Mount {
  type: string | undefined;
  source: string;
  target: string;
  readOnly: boolean;
}

class Loader {
  private readonly dir: string;
  private readonly workspaceFolder: string;
  private readonly home: string;
  private readonly lineStarts: number[] = [0];
  private readonly warnings: string[] = [];
  private containerWorkspaceFolder: string;
  private devcontainerId: string | undefined;
  /** Layer values, and the properties that produced each. */
  private readonly values: Record<string, unknown> = {};
  private readonly sites = new Map<string, Site[]>();

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly opts: LoadDevcontainerOptions,
  ) {
    this.dir = dirname(file);
    this.workspaceFolder = basename(this.dir) === '.devcontainer' ? dirname(this.dir) : this.dir;
    this.home = opts.home ?? opts.env.HOME ?? homedir();
    this.containerWorkspaceFolder = posix.join('/workspaces', basename(this.workspaceFolder));
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  load(): Devcontainer {
    // A byte order mark is no syntax error; blank it so offsets stay the same.
    const errors: ParseError[] = [];
    const root = parseTree(this.text.replace(/^\uFEFF/, ' '), errors, { allowTrailingComma: true, disallowComments: false });
    const first = errors[0];
    if (first) throw new UsageError(`${this.loc(first.offset)}: invalid JSON: ${parseErrorText(first.error)}`, { hint: 'devcontainer.json is JSON with comments and trailing commas' });
    if (!root || root.type !== 'object') this.fail(root ?? 0, '', `expected a JSON object, got ${this.show(root)}`);

    const props = new Map(this.props(root).map((p) => [p.name, p]));
    const prop = (name: string): Prop | undefined => props.get(name);

    const compose = prop('dockerComposeFile');
    if (compose) this.fail(compose.key, 'dockerComposeFile', 'Docker Compose projects are not supported by spoon', 'point devcontainer.json at an image or a Dockerfile, or run the other services yourself');
    const features = this.features(prop('features'));
    const orderProp = prop('overrideFeatureInstallOrder');
    const featureOrder = orderProp ? this.strArray(orderProp.value, 'overrideFeatureInstallOrder') : [];

    this.workspace(prop('workspaceFolder'), prop('workspaceMount'));
    const workspaceMount = this.workspaceMountValue;

    // An empty image is no image, as in the devcontainers CLI.
    const imageProp = prop('image');
    const imageName = imageProp ? this.str(imageProp.value, 'image') : '';
    const image = imageName !== '' ? imageProp : undefined;
    if (image) this.put('image', 'scalar', imageName, this.site(image));
    const build = this.build(prop('build'), prop('dockerFile'), prop('context'));
    if (image && build) {
      const buildProp = prop('build') ?? prop('dockerFile')!;
      this.fail(buildProp.key, buildProp.name, 'both image and build.dockerfile are set; use one of them');
    }

    this.appPort(prop('appPort'));
    this.forwardPorts(prop('forwardPorts'));
    this.mounts(prop('mounts'));

    const containerEnv = prop('containerEnv');
    if (containerEnv) this.put('env', 'map', this.strMap(containerEnv.value, 'containerEnv', false), this.site(containerEnv));
    const remoteEnv = prop('remoteEnv') ? this.remoteEnv(prop('remoteEnv')!) : {};
    const userEnvProbe = this.userEnvProbe(prop('userEnvProbe'));

    const remoteUser = prop('remoteUser');
    let remoteUserName: string | undefined;
    if (remoteUser) {
      const user = this.str(remoteUser.value, 'remoteUser');
      remoteUserName = user;
      if (user === 'root') this.warnings.push('remoteUser root: spoon logs in as a non-root user; set customizations.spoon.user');
      else {
        this.check('user', user, remoteUser.value, 'remoteUser');
        this.put('user', 'scalar', user, this.site(remoteUser));
      }
    }
    const containerUserProp = prop('containerUser');
    const containerUser = containerUserProp ? this.str(containerUserProp.value, 'containerUser') : undefined;

    const privileged = prop('privileged');
    if (privileged) this.put('privileged', 'scalar', this.bool(privileged.value, 'privileged'), this.site(privileged));
    const capAdd = prop('capAdd') ? this.strArray(prop('capAdd')!.value, 'capAdd') : [];
    const securityOpt = prop('securityOpt') ? this.strArray(prop('securityOpt')!.value, 'securityOpt') : [];
    let init = prop('init') ? this.bool(prop('init')!.value, 'init') : false;

    const runArgs = prop('runArgs');
    if (runArgs) {
      const extra = this.runArgs(runArgs);
      capAdd.push(...extra.capAdd);
      securityOpt.push(...extra.securityOpt);
      if (extra.init !== undefined) init = extra.init;
    }

    const lifecycle: Lifecycle = {
      initialize: this.lifecycle(prop('initializeCommand')),
      onCreate: this.lifecycle(prop('onCreateCommand')),
      updateContent: this.lifecycle(prop('updateContentCommand')),
      postCreate: this.lifecycle(prop('postCreateCommand')),
      postStart: this.lifecycle(prop('postStartCommand')),
      postAttach: this.lifecycle(prop('postAttachCommand')),
    };
    const waitFor = this.waitFor(prop('waitFor'));
    const hostRequirements = this.hostRequirements(prop('hostRequirements'));
    this.shutdownAction(prop('shutdownAction'));

    for (const p of props.values()) {
      if (!HANDLED.has(p.name) && !IGNORED.has(p.name)) this.warnings.push(`unknown property '${p.name}' ignored`);
    }

    const custom = this.customizations(prop('customizations'));
    if (!image && !build && !custom.has('image') && !custom.has('builddir')) {
      throw new UsageError(`${this.file}: devcontainer.json has neither image nor build.dockerfile`, { hint: 'set "image", or "build": {"dockerfile": "Dockerfile"}' });
    }

    const file = this.file;
    const sites = this.sites;
    const where = (key: string): string => {
      const list = sites.get(key);
      if (!list || list.length === 0) return `${file}: ${key}`;
      const [head, ...rest] = list as [Site, ...Site[]];
      const others = [...new Set(rest.map((s) => s.prop).filter((p) => p !== head.prop))];
      return `${head.loc}: ${head.prop}${others.length > 0 ? ` (and ${others.join(', ')})` : ''}`;
    };

    return {
      file,
      workspaceFolder: this.workspaceFolder,
      containerWorkspaceFolder: this.containerWorkspaceFolder,
      layer: { kind: 'devcontainer', origin: file, baseDir: this.dir, where, values: this.values },
      build,
      remoteEnv,
      ...(userEnvProbe ? { userEnvProbe } : {}),
      containerUser,
      capAdd: [...new Set(capAdd)],
      securityOpt: [...new Set(securityOpt)],
      init,
      workspaceMount,
      lifecycle,
      waitFor,
      hostRequirements,
      features,
      featureOrder,
      remoteUser: remoteUserName,
      warnings: [...new Set(this.warnings)],
      labels: this.labels(),
    };
  }

  // ---- properties ----

  /** Each entry parsed; a local feature's folder is read and checked now, so bad input stops spoon before anything is made. */
  private features(p: Prop | undefined): FeatureRef[] {
    if (!p) return [];
    const out: FeatureRef[] = [];
    for (const entry of this.props(this.object(p.value, 'features'))) {
      const path = `features[${JSON.stringify(entry.name)}]`;
      const source = parseFeatureId(entry.name, (rel) => resolve(this.dir, rel));
      if ('error' in source) this.fail(entry.key, path, source.error);
      const ref: FeatureRef = { id: entry.name, source, options: this.featureOptions(entry.value, path), where: `${this.loc(entry.key.offset)}: ${path}` };
      if (source.kind === 'local') loadLocalFeature(ref);
      out.push(ref);
    }
    return out;
  }

  /** A features entry's value: an object of options, a string (the `version` option's shorthand), or true. */
  private featureOptions(node: Node, path: string): Record<string, OptionValue> {
    if (node.type === 'string') return { version: this.str(node, path) };
    if (node.type === 'boolean' && node.value === true) return {};
    if (node.type !== 'object') this.fail(node, path, `expected an object of options, got ${this.show(node)}`);
    const out: Record<string, OptionValue> = {};
    for (const o of this.props(node)) {
      const sub = `${path}.${o.name}`;
      if (o.value.type === 'boolean') out[o.name] = o.value.value as boolean;
      else out[o.name] = this.str(o.value, sub, 'a string or true/false');
    }
    return out;
  }

  /** Sessions set them with the shell (src/core/session-env.ts): a name the shell cannot set is an error, not a silent loss. */
  private remoteEnv(p: Prop): Record<string, string> {
    const env = this.strMap(p.value, 'remoteEnv', true);
    for (const q of this.props(p.value)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(q.name)) this.fail(q.key, `remoteEnv.${q.name}`, 'not a valid environment variable name (letters, digits and _, not starting with a digit)');
    }
    return env;
  }

  private userEnvProbe(p: Prop | undefined): UserEnvProbe | undefined {
    if (!p) return undefined;
    const value = this.str(p.value, 'userEnvProbe');
    if (!(USER_ENV_PROBES as readonly string[]).includes(value)) this.fail(p.value, 'userEnvProbe', `'${value}' is not one of ${USER_ENV_PROBES.join(', ')}`);
    return value as UserEnvProbe;
  }

  private workspaceMountValue: { source: string; target: string } | undefined;

  private workspace(folderProp: Prop | undefined, mountProp: Prop | undefined): void {
    const folder = folderProp ? this.str(folderProp.value, 'workspaceFolder') : undefined;
    if (folder !== undefined && !folder.startsWith('/')) this.fail(folderProp!.value, 'workspaceFolder', `'${folder}' is not an absolute container path`);
    if (folder !== undefined) this.containerWorkspaceFolder = folder;
    this.workspaceMountValue = { source: this.workspaceFolder, target: posix.join('/workspaces', basename(this.workspaceFolder)) };
    if (!mountProp) return;
    const text = this.str(mountProp.value, 'workspaceMount');
    if (text.trim() === '') {
      this.workspaceMountValue = undefined;
      return;
    }
    const m = this.parseMountString(text, mountProp.value, 'workspaceMount');
    const type = m.type ?? (looksLikePath(m.source) ? 'bind' : 'volume');
    if (type !== 'bind') this.fail(mountProp.value, 'workspaceMount', `only a bind mount of the project is supported by spoon, got type=${type}: ${text}`, 'put volumes in "mounts"');
    if (m.source === '') this.fail(mountProp.value, 'workspaceMount', `no source in '${text}'`);
    if (!m.target.startsWith('/')) this.fail(mountProp.value, 'workspaceMount', `the target '${m.target}' must be an absolute container path`);
    const source = isAbsolute(m.source) ? m.source : resolve(this.dir, m.source);
    if (!existsSync(source)) this.fail(mountProp.value, 'workspaceMount', `the host path ${source} does not exist`);
    this.workspaceMountValue = { source, target: m.target };
    if (folder === undefined) this.containerWorkspaceFolder = m.target;
  }

  private build(buildProp: Prop | undefined, legacyFile: Prop | undefined, legacyContext: Prop | undefined): DevcontainerBuild | undefined {
    let dockerfile: { text: string; node: Node; path: string } | undefined;
    let context: { text: string; node: Node; path: string } | undefined;
    const args: Record<string, string> = {};
    let target: string | undefined;
    if (legacyFile) dockerfile = { text: this.str(legacyFile.value, 'dockerFile'), node: legacyFile.value, path: 'dockerFile' };
    if (legacyContext) context = { text: this.str(legacyContext.value, 'context'), node: legacyContext.value, path: 'context' };
    if (buildProp) {
      for (const p of this.props(this.object(buildProp.value, 'build'))) {
        const path = `build.${p.name}`;
        if (p.name === 'dockerfile') dockerfile = { text: this.str(p.value, path), node: p.value, path };
        else if (p.name === 'context') context = { text: this.str(p.value, path), node: p.value, path };
        else if (p.name === 'args') Object.assign(args, this.strMap(p.value, path, false));
        else if (p.name === 'target') target = this.str(p.value, path) || undefined;
        else this.warnings.push(`${path}: ignored by spoon`);
      }
    }
    if (!dockerfile) {
      if (buildProp) this.warnings.push('build: ignored without build.dockerfile');
      return undefined;
    }
    const dockerfilePath = resolve(this.dir, dockerfile.text);
    if (!isFile(dockerfilePath)) this.fail(dockerfile.node, dockerfile.path, `${dockerfilePath} does not exist`);
    const contextPath = resolve(this.dir, context?.text ?? '.');
    if (context && !isDir(contextPath)) this.fail(context.node, context.path, `${contextPath} is not a folder`);
    return { dockerfile: dockerfilePath, context: contextPath, args, target };
  }

  private appPort(p: Prop | undefined): void {
    if (!p) return;
    const items = p.value.type === 'array' ? (p.value.children ?? []).map((n, i) => ({ node: n, path: `appPort[${i}]` })) : [{ node: p.value, path: 'appPort' }];
    const ports: unknown[] = [];
    for (const { node, path } of items) {
      let port: number | string;
      if (node.type === 'number') port = `${String(node.value)}:${String(node.value)}`;
      else {
        // docker's -p syntax; 127.0.0.1 (what the devcontainers CLI binds numbers to) is spoon's default `listen`.
        port = this.str(node, path, 'a port number or a string').replace(/^(127\.0\.0\.1|localhost):(?=.*:)/, '');
      }
      this.check('ports', [port], node, path);
      ports.push(port);
    }
    this.put('ports', 'list', ports, this.site(p));
  }

  private forwardPorts(p: Prop | undefined): void {
    if (!p) return;
    const forwards: unknown[] = [];
    for (const [i, node] of this.array(p.value, 'forwardPorts').entries()) {
      const path = `forwardPorts[${i}]`;
      let port: number | string;
      if (node.type === 'number') port = node.value as number;
      else {
        const text = this.str(node, path, 'a port number or "host:port"');
        const m = /^(.*):(\d+)$/.exec(text);
        if (m && m[1] !== undefined && m[2] !== undefined) {
          if (!/^(localhost|127\.0\.0\.1|::1|\[::1\])$/i.test(m[1])) {
            this.warnings.push(`${path}: '${text}' is not a port in the container; skipped (spoon forwards only the container's own ports)`);
            continue;
          }
          port = Number(m[2]);
        } else port = text;
      }
      this.check('forwards', [port], node, path);
      forwards.push(port);
    }
    this.put('forwards', 'list', forwards, this.site(p));
  }

  private mounts(p: Prop | undefined): void {
    if (!p) return;
    const volumes: string[] = [];
    for (const [i, node] of this.array(p.value, 'mounts').entries()) {
      const path = `mounts[${i}]`;
      const mount = node.type === 'object' ? this.mountObject(node, path) : this.parseMountString(this.str(node, path, 'a mount string or object'), node, path);
      volumes.push(this.mountVolume(mount, node, path));
    }
    this.put('volumes', 'list', volumes, this.site(p));
  }

  private mountObject(node: Node, path: string): Mount {
    const m: Mount = { type: undefined, source: '', target: '', readOnly: false };
    for (const p of this.props(node)) {
      const sub = `${path}.${p.name}`;
      if (p.name === 'type') m.type = this.str(p.value, sub);
      else if (p.name === 'source') m.source = this.str(p.value, sub);
      else if (p.name === 'target') m.target = this.str(p.value, sub);
      else if (p.name === 'readonly' || p.name === 'readOnly') m.readOnly = this.bool(p.value, sub);
      else this.fail(p.key, sub, `unknown mount property '${p.name}' (expected type, source, target, readonly)`);
    }
    return m;
  }

  /** docker's `--mount` syntax: `type=bind,source=/a,target=/b,readonly`, fields quoted CSV-style. */
  private parseMountString(text: string, node: Node, path: string): Mount {
    const m: Mount = { type: undefined, source: '', target: '', readOnly: false };
    for (const field of splitCsv(text)) {
      const eq = field.indexOf('=');
      const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
      const value = eq < 0 ? undefined : field.slice(eq + 1).trim();
      if (key === 'type') m.type = value ?? '';
      else if (key === 'source' || key === 'src') m.source = value ?? '';
      else if (key === 'target' || key === 'destination' || key === 'dst') m.target = value ?? '';
      else if (key === 'readonly' || key === 'ro') {
        if (value === undefined || /^(true|1)$/i.test(value)) m.readOnly = true;
        else if (/^(false|0)$/i.test(value)) m.readOnly = false;
        else this.fail(node, path, `invalid ${key} value '${value}' in '${text}'`);
      } else if (key === 'consistency') {
        // macOS-only performance hint; meaningless on Linux engines.
      } else this.warnings.push(`${path}: mount option '${key}' ignored by spoon`);
    }
    if (m.target === '') this.fail(node, path, `no target in mount '${text}'`);
    return m;
  }

  /** A mount in the volumes key's `src:/target[:ro]` form, checked by schema.ts. */
  private mountVolume(m: Mount, node: Node, path: string): string {
    // docker's own default is a volume; a source that is clearly a path means a bind mount.
    const type = m.type ?? (looksLikePath(m.source) ? 'bind' : 'volume');
    const shown = describeMount(m);
    if (type !== 'bind' && type !== 'volume') this.fail(node, path, `mount type '${type}' is not supported by spoon (use bind or volume): ${shown}`);
    if (!m.target.startsWith('/')) this.fail(node, path, `the mount target '${m.target}' must be an absolute container path: ${shown}`);
    let spec: string;
    if (type === 'bind') {
      if (m.source === '') this.fail(node, path, `a bind mount needs a source: ${shown}`);
      const source = isAbsolute(m.source) || m.source.startsWith('~') ? m.source : resolve(this.dir, m.source);
      spec = `${source}:${m.target}`;
    } else spec = m.source === '' ? m.target : `${m.source}:${m.target}`;
    if (m.readOnly) spec += ':ro';
    const parsed = this.check('volumes', [spec], node, path) as VolumeSpec[];
    if (parsed[0]?.type !== type) this.fail(node, path, `'${m.source}' is not a valid ${type === 'volume' ? 'volume name' : 'host path'}: ${shown}`);
    return spec;
  }

  private runArgs(p: Prop): { capAdd: string[]; securityOpt: string[]; init: boolean | undefined } {
    const out = { capAdd: [] as string[], securityOpt: [] as string[], init: undefined as boolean | undefined };
    const nodes = this.array(p.value, 'runArgs');
    const site = this.site(p);
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const arg = this.str(node, `runArgs[${i}]`);
      let flag: string;
      let inline: string | undefined;
      if (arg.startsWith('--')) {
        const eq = arg.indexOf('=');
        flag = eq < 0 ? arg : arg.slice(0, eq);
        inline = eq < 0 ? undefined : arg.slice(eq + 1);
      } else if (/^-[A-Za-z]/.test(arg)) {
        flag = arg.slice(0, 2);
        const rest = arg.slice(2);
        inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest;
      } else flag = arg;
      const kind = RUN_ARGS[flag];
      if (!kind) this.fail(node, 'runArgs', `'${flag}' is not supported by spoon (supported: ${SUPPORTED_RUN_ARGS})`);
      if (BOOLEAN_RUN_ARGS.has(kind)) {
        let on = true;
        if (inline !== undefined) {
          if (/^(true|1)$/i.test(inline)) on = true;
          else if (/^(false|0)$/i.test(inline)) on = false;
          else this.fail(node, `runArgs[${i}]`, `invalid value '${inline}' for ${flag}: expected true or false`);
        }
        if (kind === 'init') out.init = on;
        else this.put('privileged', 'scalar', on, { ...site, loc: this.loc(node.offset) });
        continue;
      }
      let value: string;
      let valueNode = node;
      let valuePath = `runArgs[${i}]`;
      if (inline !== undefined) value = inline;
      else {
        const next = nodes[i + 1];
        if (!next) this.fail(node, `runArgs[${i}]`, `'${flag}' needs a value`);
        i++;
        valueNode = next;
        valuePath = `runArgs[${i}]`;
        value = this.str(next, valuePath);
      }
      const valueSite = { loc: this.loc(valueNode.offset), prop: 'runArgs' };
      switch (kind) {
        case 'cpus':
          this.check('cpus', value, valueNode, valuePath);
          this.put('cpus', 'scalar', value, valueSite);
          break;
        case 'memory':
          this.check('memory', value, valueNode, valuePath);
          this.put('memory', 'scalar', value, valueSite);
          break;
        case 'dns':
          this.check('dns', [value], valueNode, valuePath);
          this.put('dns', 'list', [value], valueSite);
          break;
        case 'env': {
          const eq = value.indexOf('=');
          if (eq === 0 || value === '') this.fail(valueNode, valuePath, `invalid ${flag} value '${value}': expected NAME=VALUE or NAME`);
          // `-e NAME` passes the host's value, and nothing when it is unset, like docker.
          const entry: Record<string, string> = {};
          if (eq > 0) entry[value.slice(0, eq)] = value.slice(eq + 1);
          else if (this.opts.env[value] !== undefined) entry[value] = this.opts.env[value]!;
          this.put('env', 'map', entry, valueSite);
          break;
        }
        case 'volume':
          this.check('volumes', [value], valueNode, valuePath);
          this.put('volumes', 'list', [value], valueSite);
          break;
        case 'capAdd':
          out.capAdd.push(value);
          break;
        case 'securityOpt':
          out.securityOpt.push(value);
          break;
      }
    }
    return out;
  }

  private lifecycle(p: Prop | undefined): LifecycleCommand {
    if (!p) return [];
    const node = p.value;
    const expected = 'a string, an array of strings or an object';
    if (node.type === 'null') return [];
    if (node.type === 'string' || node.type === 'array') {
      const command = this.command(node, p.name, expected);
      return command.length === 0 ? [] : [[{ name: undefined, command }]];
    }
    if (node.type !== 'object') this.fail(node, p.name, `expected ${expected}, got ${this.show(node)}`);
    const steps: LifecycleStep[] = [];
    for (const step of this.props(node)) {
      const command = this.command(step.value, `${p.name}.${step.name}`, 'a string or an array of strings');
      if (command.length > 0) steps.push({ name: step.name, command });
    }
    return steps.length === 0 ? [] : [steps];
  }

  private waitFor(p: Prop | undefined): WaitFor {
    if (!p) return 'updateContentCommand';
    const value = this.str(p.value, 'waitFor');
    if (!(WAIT_FOR as readonly string[]).includes(value)) this.fail(p.value, 'waitFor', `'${value}' is not a lifecycle command spoon can wait for (expected one of ${WAIT_FOR.join(', ')})`);
    return value as WaitFor;
  }

  /**
   * cpus and memory are checked against the engine when an env is created. storage is
   * checked for its form only: the Engine API does not say how much disk is free. A
   * required GPU is a warning: spoon gives containers no GPUs.
   */
  private hostRequirements(p: Prop | undefined): HostRequirements {
    const out: HostRequirements = {};
    if (!p) return out;
    for (const entry of this.props(this.object(p.value, 'hostRequirements'))) {
      const path = `hostRequirements.${entry.name}`;
      const node = entry.value;
      const where = this.loc(entry.key.offset);
      switch (entry.name) {
        case 'cpus': {
          if (node.type !== 'number' || !Number.isInteger(node.value) || (node.value as number) < 1) this.fail(node, path, `expected a whole number of CPUs (at least 1), got ${this.show(node)}`);
          out.cpus = { count: node.value as number, where };
          break;
        }
        case 'memory':
        case 'storage': {
          const text = this.str(node, path, 'a size such as "8gb"');
          const bytes = parseRequirementSize(text);
          if (bytes === undefined) this.fail(node, path, `invalid size '${text}': expected a number with tb, gb, mb or kb, such as "8gb"`);
          if (entry.name === 'memory') out.memory = { bytes, text, where };
          break;
        }
        case 'gpu':
          if (node.type === 'boolean' || node.type === 'object' || (node.type === 'string' && node.value === 'optional')) {
            if (node.value !== false && node.value !== 'optional') this.warnings.push(`${path}: spoon gives containers no GPUs; the env is made without one`);
          } else this.fail(node, path, `expected true, false, "optional" or an object, got ${this.show(node)}`);
          break;
        default:
          this.warnings.push(`${path}: unknown host requirement ignored`);
      }
    }
    return out;
  }

  /** The devcontainers CLI leaves this to editors; spoon leaves envs running when you detach (tmux keeps your session, a partner may still be in it). */
  private shutdownAction(p: Prop | undefined): void {
    if (!p) return;
    const value = this.str(p.value, 'shutdownAction');
    if (value === 'stopContainer') this.warnings.push(`shutdownAction: spoon leaves the env running when you detach (its tmux session and partners stay); \`spoon stop NAME\` stops it`);
    else if (value === 'stopCompose') this.fail(p.value, 'shutdownAction', "'stopCompose' is for Docker Compose projects, which spoon does not support");
    else if (value !== 'none') this.fail(p.value, 'shutdownAction', `expected none or stopContainer, got '${value}'`);
  }

  private command(node: Node, path: string, expected: string): string | string[] {
    if (node.type === 'string') return this.str(node, path);
    if (node.type === 'array') return this.strArray(node, path);
    return this.fail(node, path, `expected ${expected}, got ${this.show(node)}`);
  }

  /** `customizations.spoon` keys, which win over the mapped properties; other tools' customizations are not spoon's business. */
  private customizations(p: Prop | undefined): Set<string> {
    const keys = new Set<string>();
    if (!p) return keys;
    this.object(p.value, 'customizations');
    const spoon = findNodeAtLocation(p.value, ['spoon']);
    if (!spoon) return keys;
    for (const entry of this.props(this.object(spoon, 'customizations.spoon'))) {
      const path = `customizations.spoon.${entry.name}`;
      if (!isKeyName(entry.name)) this.fail(entry.key, path, 'unknown key', `known keys: ${KEY_NAMES.join(', ')}`);
      const value = this.plain(entry.value, path);
      this.check(entry.name, value, entry.key, path);
      this.put(entry.name, 'scalar', value, this.site(entry, path));
      keys.add(entry.name);
    }
    return keys;
  }

  private labels(): Record<string, string> {
    return { 'devcontainer.local_folder': this.workspaceFolder, 'devcontainer.config_file': this.file };
  }

  // ---- layer values ----

  private put(key: KeyName, how: 'scalar' | 'list' | 'map', value: unknown, site: Site): void {
    const sites = this.sites.get(key) ?? [];
    if (how === 'list') this.values[key] = [...((this.values[key] as unknown[] | undefined) ?? []), ...(value as unknown[])];
    else if (how === 'map') this.values[key] = { ...((this.values[key] as Record<string, string> | undefined) ?? {}), ...(value as Record<string, string>) };
    else {
      this.values[key] = value;
      sites.length = 0;
    }
    sites.push(site);
    this.sites.set(key, sites);
  }

  /** Validates a value with schema.ts now, so that an error points at the exact element. */
  private check(key: KeyName, value: unknown, node: Node, path: string): unknown {
    return parseKey(key, value, { where: `${this.loc(node.offset)}: ${path}`, baseDir: this.dir, home: this.home });
  }

  private site(p: Prop, path = p.name): Site {
    return { loc: this.loc(p.key.offset), prop: path };
  }

  // ---- typed reading of JSON nodes ----

  private props(node: Node): Prop[] {
    const out: Prop[] = [];
    for (const child of node.children ?? []) {
      const [key, value] = child.children ?? [];
      if (key && value) out.push({ name: String(key.value), key, value });
    }
    return out;
  }

  private object(node: Node, path: string): Node {
    if (node.type !== 'object') this.fail(node, path, `expected an object, got ${this.show(node)}`);
    return node;
  }

  private array(node: Node, path: string): Node[] {
    if (node.type !== 'array') this.fail(node, path, `expected an array, got ${this.show(node)}`);
    return node.children ?? [];
  }

  private str(node: Node, path: string, expected = 'a string'): string {
    if (node.type !== 'string') this.fail(node, path, `expected ${expected}, got ${this.show(node)}`);
    return this.substitute(node, path);
  }

  private strArray(node: Node, path: string): string[] {
    return this.array(node, path).map((n, i) => this.str(n, `${path}[${i}]`));
  }

  private bool(node: Node, path: string): boolean {
    if (node.type !== 'boolean') this.fail(node, path, `expected true or false, got ${this.show(node)}`);
    return node.value as boolean;
  }

  /** An object of strings; with `nullDrops`, a null value means "unset" and is left out. */
  private strMap(node: Node, path: string, nullDrops: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.props(this.object(node, path))) {
      if (nullDrops && p.value.type === 'null') continue;
      out[p.name] = this.str(p.value, `${path}.${p.name}`);
    }
    return out;
  }

  /** The plain JSON value, with variables substituted in its strings. */
  private plain(node: Node, path: string): unknown {
    switch (node.type) {
      case 'string':
        return this.substitute(node, path);
      case 'array':
        return (node.children ?? []).map((c, i) => this.plain(c, `${path}[${i}]`));
      case 'object':
        return Object.fromEntries(this.props(node).map((p) => [p.name, this.plain(p.value, `${path}.${p.name}`)]));
      default:
        return getNodeValue(node) as unknown;
    }
  }

  // ---- variables ----

  private substitute(node: Node, path: string): string {
    const value = node.value as string;
    const raw = this.text.slice(node.offset, node.offset + node.length);
    let from = 0;
    return value.replace(/\$\{(.*?)\}/g, (whole: string, inner: string) => {
      // Where this variable is in the file: its own text, unless escapes hide it.
      const at = raw.indexOf(whole, from);
      if (at >= 0) from = at + whole.length;
      const offset = at >= 0 ? node.offset + at : node.offset;
      const [name = '', ...args] = inner.split(':');
      switch (name) {
        case 'localEnv':
        case 'env': {
          const variable = args[0];
          if (!variable) this.fail(offset, path, `${whole} names no variable`, 'write ${localEnv:NAME} or ${localEnv:NAME:default}');
          return this.opts.env[variable] ?? (args.length > 1 ? args.slice(1).join(':') : '');
        }
        case 'localWorkspaceFolder':
          return this.workspaceFolder;
        case 'localWorkspaceFolderBasename':
          return basename(this.workspaceFolder);
        case 'containerWorkspaceFolder':
          return this.containerWorkspaceFolder;
        case 'containerWorkspaceFolderBasename':
          return posix.basename(this.containerWorkspaceFolder);
        case 'devcontainerId':
          return (this.devcontainerId ??= devcontainerId(this.labels()));
        case 'containerEnv':
          // In remoteEnv it is the session's variable, read in the container (src/core/session-env.ts).
          if (path.startsWith('remoteEnv.') && /^[A-Za-z_][A-Za-z0-9_]*$/.test(args[0] ?? '')) return whole;
          this.warnings.push(`${path}: ${whole} cannot be known on the host; left as is`);
          return whole;
        default:
          return this.fail(offset, path, `unsupported variable ${whole}`, `spoon knows ${VARIABLES} (and \${containerEnv:NAME}, left as is)`);
      }
    });
  }

  // ---- messages ----

  private loc(offset: number): string {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${this.file}:${lo + 1}:${offset - this.lineStarts[lo]! + 1}`;
  }

  private fail(at: Node | number, path: string, message: string, hint?: string): never {
    const offset = typeof at === 'number' ? at : at.offset;
    throw new UsageError(`${this.loc(offset)}: ${path === '' ? '' : `${path}: `}${message}`, hint ? { hint } : {});
  }

  private show(node: Node | undefined): string {
    if (!node) return 'nothing';
    const text = JSON.stringify(getNodeValue(node)) ?? 'nothing';
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  }
}

// ---------------------------------------------------------------------------

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `hostRequirements` sizes as the devcontainers CLI reads them: a whole number, optionally tb/gb/mb/kb in powers of 1024. */
export function parseRequirementSize(text: string): number | undefined {
  const m = /^(\d+)\s*([tgmk]b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { t: 2 ** 40, g: 2 ** 30, m: 2 ** 20, k: 2 ** 10 }[(m[2]?.[0]?.toLowerCase() ?? '') as 't' | 'g' | 'm' | 'k'] ?? 1;
  return Number(m[1]) * unit;
}

function looksLikePath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

function describeMount(m: Mount): string {
  return [m.type === undefined ? undefined : `type=${m.type}`, m.source === '' ? undefined : `source=${m.source}`, `target=${m.target}`, m.readOnly ? 'readonly' : undefined]
    .filter((s) => s !== undefined)
    .join(',');
}

/** Comma-separated fields; a double-quoted part may hold commas (how the devcontainers CLI quotes paths). */
function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields.map((f) => f.trim()).filter((f) => f !== '');
}

/** The devcontainers CLI's `${devcontainerId}`: a hash of its identifying labels, in base 32. */
function devcontainerId(labels: Record<string, string>): string {
  const json = JSON.stringify(labels, Object.keys(labels).sort());
  const digest = createHash('sha256').update(json, 'utf8').digest('hex');
  return BigInt(`0x${digest}`).toString(32).padStart(52, '0');
}
