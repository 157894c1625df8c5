/**
 * devcontainer Features (containers.dev/implementors/features): the pure part.
 * What a `features` entry of devcontainer.json refers to (a local folder or an
 * OCI artifact), a feature's devcontainer-feature.json read and checked, its
 * options turned into the environment install.sh gets, the install order
 * (installsAfter, dependsOn, overrideFeatureInstallOrder), and the derived
 * image's Dockerfile and content tag. Fetching and building are in
 * images/features.ts and images/oci.ts.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findNodeAtLocation, getNodeValue, parseTree, type Node, type ParseError } from 'jsonc-parser';
import { UsageError } from '../errors.js';

/** An option value as devcontainer.json gives it. */
export type OptionValue = string | boolean;

export type FeatureSource =
  /** A folder next to devcontainer.json (`./name`): its absolute path. */
  | { kind: 'local'; dir: string }
  /** `registry/namespace/name[:tag|@digest]`; `resource` is registry/repository, without tag or digest. */
  | { kind: 'oci'; registry: string; repository: string; reference: string; resource: string };

/** One `features` entry of devcontainer.json, as written there. */
export interface FeatureRef {
  /** The key as written: `./my-feature`, `ghcr.io/acme/features/tool:1`. */
  id: string;
  source: FeatureSource;
  options: Record<string, OptionValue>;
  /** `FILE:LINE:COL: features["ID"]`, for messages. */
  where: string;
}

export interface FeatureOption {
  type: 'string' | 'boolean';
  default: OptionValue | undefined;
}

/** What spoon uses of a devcontainer-feature.json. */
export interface FeatureMetadata {
  id: string;
  version: string | undefined;
  options: Record<string, FeatureOption>;
  installsAfter: string[];
  dependsOn: Record<string, Record<string, OptionValue>>;
  containerEnv: Record<string, string>;
  /** Properties the feature declares that spoon does not apply (mounts, privileged, lifecycle commands, ...), for a warning. */
  notApplied: string[];
}

/** devcontainer-feature.json properties the devcontainers CLI applies to the container and spoon does not. */
const NOT_APPLIED = ['mounts', 'privileged', 'capAdd', 'securityOpt', 'init', 'entrypoint', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'];

/**
 * What a features key refers to. `./x` and `../x` are folders relative to
 * devcontainer.json's folder (`dir`); anything with a registry host is an OCI
 * artifact; a tarball URL or a bare legacy id is refused (undefined + why).
 */
export function parseFeatureId(id: string, resolveDir: (rel: string) => string): FeatureSource | { error: string } {
  if (id.startsWith('./') || id.startsWith('../')) return { kind: 'local', dir: resolveDir(id) };
  if (/^https?:\/\//i.test(id)) return { error: 'features from a tarball URL are not supported by spoon (use a local folder or an OCI registry)' };
  if (id.startsWith('/')) return { error: 'a local feature is a path relative to the devcontainer.json folder, starting with ./' };
  const lower = id.toLowerCase();
  let name = lower;
  let reference = 'latest';
  const at = lower.indexOf('@');
  if (at >= 0) {
    name = lower.slice(0, at);
    reference = lower.slice(at + 1);
    if (!/^sha256:[a-f0-9]{64}$/.test(reference)) return { error: `'${reference}' is not a digest (expected sha256:<64 hex digits>)` };
  } else {
    const colon = lower.lastIndexOf(':');
    // A colon after the last slash is a tag; one before it is the registry's port.
    if (colon > lower.lastIndexOf('/')) {
      name = lower.slice(0, colon);
      reference = lower.slice(colon + 1);
      if (!/^[a-z0-9_][a-z0-9._-]{0,127}$/.test(reference)) return { error: `'${reference}' is not a valid tag` };
    }
  }
  const slash = name.indexOf('/');
  const registry = slash < 0 ? '' : name.slice(0, slash);
  const repository = slash < 0 ? '' : name.slice(slash + 1);
  if (!registry.includes('.') && !registry.includes(':') && registry !== 'localhost') {
    return { error: 'not a local folder (./name) nor a registry reference (host/namespace/name:tag); bare ids of the old feature set are not supported' };
  }
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository) || !repository.includes('/')) {
    return { error: `'${repository}' is not a valid repository (expected namespace/name)` };
  }
  return { kind: 'oci', registry, repository, reference, resource: `${registry}/${repository}` };
}

/** The key under which installsAfter and dependsOn entries find a feature: its folder, or its registry/repository without the tag. */
export function sourceKey(source: FeatureSource): string {
  return source.kind === 'local' ? source.dir : source.resource;
}

/** The spec's option name to environment variable name: non-word characters become `_`, leading digits and underscores one `_`, upper case. */
export function optionEnvName(name: string): string {
  return name.replace(/[^\w_]/g, '_').replace(/^[\d_]+/g, '_').toUpperCase();
}

/**
 * Reads a devcontainer-feature.json; every error names `file` with line and column.
 * Only the properties spoon acts on are checked; the others are the feature's business.
 */
export function readFeatureMetadata(text: string, file: string): FeatureMetadata {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const loc = (offset: number): string => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= offset) line++;
    return `${file}:${line + 1}:${offset - lineStarts[line]! + 1}`;
  };
  const fail = (node: Node | undefined, path: string, message: string): never => {
    throw new UsageError(`${loc(node?.offset ?? 0)}: ${path === '' ? '' : `${path}: `}${message}`);
  };
  const show = (node: Node): string => JSON.stringify(getNodeValue(node));
  const errors: ParseError[] = [];
  const root = parseTree(text.replace(/^\uFEFF/, ' '), errors, { allowTrailingComma: true, disallowComments: false });
  if (errors[0]) fail({ offset: errors[0].offset } as Node, '', 'invalid JSON');
  if (!root || root.type !== 'object') return fail(root, '', 'expected a JSON object');
  const get = (path: string): Node | undefined => findNodeAtLocation(root, [path]);
  const str = (node: Node | undefined, path: string): string | undefined => {
    if (!node) return undefined;
    if (node.type !== 'string') fail(node, path, `expected a string, got ${show(node)}`);
    return node.value as string;
  };
  const object = (node: Node, path: string): [string, Node, Node][] => {
    if (node.type !== 'object') fail(node, path, `expected an object, got ${show(node)}`);
    return (node.children ?? []).map((p) => [String(p.children![0]!.value), p.children![0]!, p.children![1]!] as [string, Node, Node]);
  };

  const id = str(get('id'), 'id');
  if (id === undefined || id === '') fail(root, 'id', 'missing: a feature needs an id');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(id!)) fail(get('id'), 'id', `'${id}' is not a valid id (letters, digits, '.', '-' and '_')`);

  const options: Record<string, FeatureOption> = {};
  const optionsNode = get('options');
  if (optionsNode) {
    for (const [name, , value] of object(optionsNode, 'options')) {
      const path = `options.${name}`;
      const props = new Map(object(value, path).map(([k, , v]) => [k, v]));
      const typeNode = props.get('type');
      if (!typeNode) fail(value, path, 'no type (expected "string" or "boolean")');
      const type = str(typeNode, `${path}.type`);
      if (type !== 'string' && type !== 'boolean') return fail(typeNode, `${path}.type`, `unknown option type '${type}' (expected "string" or "boolean")`);
      const def = props.get('default');
      let defaultValue: OptionValue | undefined;
      if (def) {
        if (type === 'boolean' && def.type !== 'boolean') fail(def, `${path}.default`, `expected true or false, got ${show(def)}`);
        if (type === 'string' && def.type !== 'string') fail(def, `${path}.default`, `expected a string, got ${show(def)}`);
        defaultValue = def.value as OptionValue;
      }
      options[name] = { type, default: defaultValue };
    }
  }

  const installsAfter: string[] = [];
  const after = get('installsAfter');
  if (after) {
    if (after.type !== 'array') fail(after, 'installsAfter', `expected an array of feature ids, got ${show(after)}`);
    for (const [i, n] of (after.children ?? []).entries()) installsAfter.push(str(n, `installsAfter[${i}]`)!);
  }

  const dependsOn: Record<string, Record<string, OptionValue>> = {};
  const depends = get('dependsOn');
  if (depends) {
    for (const [name, , value] of object(depends, 'dependsOn')) dependsOn[name] = optionValues(value, `dependsOn.${name}`, fail, show);
  }

  const containerEnv: Record<string, string> = {};
  const env = get('containerEnv');
  if (env) {
    for (const [name, key, value] of object(env, 'containerEnv')) {
      // It becomes a Dockerfile ENV line: a name with spaces or '=' would break it.
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(key, `containerEnv.${name}`, 'not a valid environment variable name');
      containerEnv[name] = str(value, `containerEnv.${name}`)!;
    }
  }

  const notApplied = NOT_APPLIED.filter((k) => get(k) !== undefined);
  return { id: id!, version: str(get('version'), 'version'), options, installsAfter, dependsOn, containerEnv, notApplied };
}

/** A features entry's value: an object of options, or a string (the `version` option's shorthand). */
export function optionValues(node: Node, path: string, fail: (node: Node, path: string, message: string) => never, show: (node: Node) => string): Record<string, OptionValue> {
  if (node.type === 'string') return { version: node.value as string };
  if (node.type === 'boolean' && node.value === true) return {};
  if (node.type !== 'object') return fail(node, path, `expected an object of options, got ${show(node)}`);
  const out: Record<string, OptionValue> = {};
  for (const p of node.children ?? []) {
    const [k, v] = p.children ?? [];
    if (!k || !v) continue;
    if (v.type !== 'string' && v.type !== 'boolean') fail(v, `${path}.${String(k.value)}`, `expected a string or true/false, got ${show(v)}`);
    out[String(k.value)] = v.value as OptionValue;
  }
  return out;
}

/**
 * The environment install.sh runs with: every declared option, its value from
 * devcontainer.json or else its default (options without either are left out, as
 * the devcontainers CLI does), plus values for options the feature does not
 * declare (passed through like the CLI; `unknown` lists them for a warning).
 */
export function optionEnv(meta: FeatureMetadata, values: Record<string, OptionValue>): { env: Record<string, string>; unknown: string[] } {
  const env: Record<string, string> = {};
  for (const [name, option] of Object.entries(meta.options)) {
    const value = name in values ? values[name] : option.default;
    if (value !== undefined) env[optionEnvName(name)] = String(value);
  }
  const unknown = Object.keys(values).filter((k) => !(k in meta.options));
  for (const name of unknown) env[optionEnvName(name)] = String(values[name]);
  return { env, unknown };
}

export interface OrderItem {
  /** sourceKey() of the feature. */
  key: string;
  /** The id in its devcontainer-feature.json. */
  metaId: string;
  installsAfter: string[];
  /** sourceKey()s of features it depends on (all in the set). */
  dependsOn: string[];
}

/**
 * The install order, the way the devcontainers CLI computes it: in rounds, each round
 * installs every feature whose dependsOn and (present) installsAfter features are
 * installed; of those, the ones listed first in overrideFeatureInstallOrder win the
 * round; ties go by key (the folder or registry reference), so the order is stable.
 * installsAfter names a feature by its registry reference (without tag), its folder
 * (`./name`, resolved like the features keys) or its id. A cycle is an error.
 */
export function installOrder<T extends OrderItem>(items: T[], resolveRef: (ref: string) => string, override: string[] = []): T[] {
  const matches = (ref: string, item: OrderItem): boolean => {
    const resolved = resolveRef(ref);
    return item.key === resolved || item.metaId === ref || item.key === stripTag(resolved);
  };
  const priority = (item: T): number => {
    const i = override.findIndex((ref) => matches(ref, item));
    return i < 0 ? 0 : override.length - i;
  };
  const preds = new Map<T, T[]>();
  for (const item of items) {
    const before = items.filter((other) => other !== item && (item.dependsOn.includes(other.key) || item.installsAfter.some((ref) => matches(ref, other))));
    preds.set(item, before);
  }
  const done = new Set<T>();
  const out: T[] = [];
  while (out.length < items.length) {
    const ready = items.filter((i) => !done.has(i) && preds.get(i)!.every((p) => done.has(p)));
    if (ready.length === 0) {
      const stuck = items.filter((i) => !done.has(i)).map((i) => i.key);
      throw new UsageError(`features: installsAfter/dependsOn form a cycle among ${stuck.join(', ')}`);
    }
    const top = Math.max(...ready.map(priority));
    const round = ready.filter((i) => priority(i) === top).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const i of round) {
      done.add(i);
      out.push(i);
    }
  }
  return out;
}

function stripTag(ref: string): string {
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/** A file of a feature, as it goes into the build context. */
export interface FeatureFile {
  /** Relative to the feature's folder, `/`-separated. */
  path: string;
  content: Buffer;
  mode: number;
}

/** A feature ready to install: its files, metadata and option environment. */
export interface ResolvedFeature {
  ref: FeatureRef;
  meta: FeatureMetadata;
  files: FeatureFile[];
  env: Record<string, string>;
}

export interface DerivedImageInput {
  /** The base image's id (the tag is a hash of it: a rebuilt base means a new derived image). */
  baseId: string;
  /** The base image's USER, restored after the installs (which run as root). */
  baseUser: string;
  /** _CONTAINER_USER and _REMOTE_USER as the spec defines them. */
  containerUser: string;
  remoteUser: string;
  /** In install order. */
  features: ResolvedFeature[];
}

/**
 * The derived image's tag: a hash of the base image id and the whole build context
 * (the Dockerfile spoon writes, the features' files, their option values), so any
 * change to what would be built is a new tag, and nothing else is.
 */
export function derivedImageTag(input: DerivedImageInput): string {
  const h = createHash('sha256');
  h.update(`spoon-features 1\0${input.baseId}\0`);
  for (const file of derivedImageContext(input).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    h.update(`${file.path}\0${file.mode & 0o777}\0${content.length}\0`);
    h.update(content);
  }
  return `spoon-features:${h.digest('hex').slice(0, 16)}`;
}

/** Where install.sh runs, as with the devcontainers CLI. */
export const FEATURES_DIR = '/tmp/dev-container-features';

/** Single-quoted for sh: the value arrives exactly (newlines, `$`, quotes). */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A Dockerfile ENV value: double-quoted, `"` and `\` escaped, `${VAR}` left for the builder to expand (as the CLI does). */
function envValue(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1').replace(/\n/g, '\\n')}"`;
}

/** A passwd lookup that works with and without getent (busybox and distroless-ish images). */
function homeOf(user: string): string {
  const q = shQuote(user);
  return `$( ( (command -v getent >/dev/null 2>&1 && getent passwd ${q}) || grep -E "^${user.replace(/[^A-Za-z0-9_.-]/g, '')}:" /etc/passwd || true) | cut -d: -f6)`;
}

/**
 * The build context of the derived image: a Dockerfile FROM the base image id that,
 * as root, installs each feature in order (its containerEnv set first, as the CLI
 * does, so later features see it), then restores the base image's user.
 */
export function derivedImageContext(input: DerivedImageInput): { path: string; content: Buffer | string; mode: number }[] {
  const files: { path: string; content: Buffer | string; mode: number }[] = [];
  const builtin = `_CONTAINER_USER=${shQuote(input.containerUser)}\n_REMOTE_USER=${shQuote(input.remoteUser)}\n`;
  files.push({ path: 'devcontainer-features.builtin.env', content: builtin, mode: 0o644 });
  const lines = [
    `FROM ${input.baseId}`,
    'USER root',
    `COPY devcontainer-features.builtin.env ${FEATURES_DIR}/`,
    `RUN echo "_CONTAINER_USER_HOME=${homeOf(input.containerUser)}" >> ${FEATURES_DIR}/devcontainer-features.builtin.env \\`,
    ` && echo "_REMOTE_USER_HOME=${homeOf(input.remoteUser)}" >> ${FEATURES_DIR}/devcontainer-features.builtin.env`,
  ];
  input.features.forEach((f, i) => {
    const dir = `${i}-${f.meta.id}`;
    for (const file of f.files) files.push({ path: `${dir}/${file.path}`, content: file.content, mode: file.mode });
    const env = Object.entries(f.env).map(([k, v]) => `${k}=${shQuote(v)}\n`).join('');
    files.push({ path: `${dir}/devcontainer-features.env`, content: env, mode: 0o644 });
    lines.push('');
    for (const [k, v] of Object.entries(f.meta.containerEnv)) lines.push(`ENV ${k}=${envValue(v)}`);
    lines.push(`COPY ${dir} ${FEATURES_DIR}/${dir}`);
    lines.push(
      `RUN echo "spoon: installing feature ${f.ref.id.replace(/["\\$`]/g, '')}" && cd ${FEATURES_DIR}/${dir} && chmod -R 0755 . \\`,
      ' && set -a && . ../devcontainer-features.builtin.env && . ./devcontainer-features.env && set +a \\',
      ' && ./install.sh',
    );
  });
  lines.push('', `USER ${input.baseUser || 'root'}`, '');
  files.push({ path: 'Dockerfile', content: lines.join('\n'), mode: 0o644 });
  return files;
}

/**
 * A local feature's files, checked: devcontainer-feature.json (read and validated)
 * and install.sh must be there. Errors name the file (exit 2).
 */
export function loadLocalFeature(ref: FeatureRef): { meta: FeatureMetadata; files: FeatureFile[] } {
  if (ref.source.kind !== 'local') throw new Error('loadLocalFeature: not a local feature');
  const dir = ref.source.dir;
  if (!isDirectory(dir)) throw new UsageError(`${ref.where}: the feature folder ${dir} does not exist`);
  const files = readTree(dir);
  return { meta: checkFeatureFiles(files, dir, ref), files };
}

/** The metadata of a feature's files (local or fetched); `origin` names where they are in messages. */
export function checkFeatureFiles(files: FeatureFile[], origin: string, ref: FeatureRef): FeatureMetadata {
  const metaFile = files.find((f) => f.path === 'devcontainer-feature.json');
  if (!metaFile) throw new UsageError(`${ref.where}: ${origin}/devcontainer-feature.json does not exist (a feature needs devcontainer-feature.json and install.sh)`);
  const meta = readFeatureMetadata(metaFile.content.toString('utf8'), `${origin}/devcontainer-feature.json`);
  if (!files.some((f) => f.path === 'install.sh')) throw new UsageError(`${ref.where}: ${origin}/install.sh does not exist (a feature needs devcontainer-feature.json and install.sh)`);
  return meta;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The regular files under `dir` (links followed to files), sorted, paths `/`-separated. */
function readTree(dir: string): FeatureFile[] {
  const out: FeatureFile[] = [];
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub)).sort()) {
      const rel = sub === '' ? entry : `${sub}/${entry}`;
      let st;
      try {
        st = statSync(join(dir, rel));
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(rel);
      else if (st.isFile()) out.push({ path: rel, content: readFileSync(join(dir, rel)), mode: st.mode & 0o7777 });
    }
  };
  walk('');
  return out;
}
