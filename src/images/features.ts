/**
 * Installs devcontainer Features into a derived image: FROM the env's base image
 * (the configured image or the Dockerfile build), one layer per feature, tagged
 * by a content hash of the base image id, the features' files and their option
 * values, so it is built once and reused until one of them changes.
 */
import type { Engine, ProgressSink } from '../engine/engine.js';
import { RuntimeError } from '../errors.js';
import { acquireLock } from '../state/lock.js';
import {
  checkFeatureFiles,
  derivedImageContext,
  derivedImageTag,
  installOrder,
  loadLocalFeature,
  optionEnv,
  parseFeatureId,
  sourceKey,
  type FeatureRef,
  type OptionValue,
  type ResolvedFeature,
} from '../config/features.js';
import type { ImageRef } from './ensure-image.js';
import { fetchOciFeature } from './oci.js';

export interface FeaturesInput {
  features: FeatureRef[];
  /** devcontainer.json's overrideFeatureInstallOrder. */
  overrideOrder: string[];
  /** Resolves a relative feature reference (`./x`) the way the features keys are: against devcontainer.json's folder. */
  resolveDir: (rel: string) => string;
  /** devcontainer.json's remoteUser and containerUser, as written. */
  remoteUser: string | undefined;
  containerUser: string | undefined;
}

export interface FeaturesDeps {
  engine: Engine;
  notice: (message: string) => void;
  warn: (message: string) => void;
  progress: ProgressSink;
  lockPath: (key: string) => string;
  labels: Record<string, string>;
  fetchImpl?: typeof fetch;
}

export interface FeaturesImage {
  image: ImageRef;
  /** The features' containerEnv as the image has them (`${PATH}` expanded): sshd sessions do not inherit the image's env. */
  env: Record<string, string>;
}

/** Resolves, fetches and orders the features, then builds (or reuses) the derived image. */
export async function ensureFeatures(base: ImageRef, input: FeaturesInput, deps: FeaturesDeps): Promise<FeaturesImage> {
  const resolved = await resolveFeatures(input, deps);
  const ordered = installOrder(
    resolved.map((f) => ({ ...f, key: sourceKey(f.ref.source), metaId: f.meta.id, installsAfter: f.meta.installsAfter, dependsOn: dependencyKeys(f, input) })),
    (ref) => {
      const source = parseFeatureId(ref, input.resolveDir);
      return 'error' in source ? ref : sourceKey(source);
    },
    input.overrideOrder,
  );

  const info = await deps.engine.inspectImage(base.id);
  const baseUser = info?.user ?? '';
  // The spec's users: containerUser, else the image's user; remoteUser, else containerUser.
  const containerUser = input.containerUser ?? (baseUser || 'root');
  const remoteUser = input.remoteUser ?? containerUser;
  const derived = { baseId: base.id, baseUser, containerUser, remoteUser, features: ordered };
  const tag = derivedImageTag(derived);

  let present = await deps.engine.inspectImage(tag);
  if (!present) {
    const lock = await acquireLock(deps.lockPath(`image-${tag.replace(/[^a-z0-9]/gi, '_')}`), `image ${tag}`, 30 * 60_000, () =>
      deps.notice(`waiting for another spoon process that is building ${tag}`),
    );
    try {
      present = await deps.engine.inspectImage(tag);
      if (!present) {
        deps.notice(`installing features ${ordered.map((f) => f.ref.id).join(', ')} into ${tag} (from ${base.ref})`);
        await build(deps, tag, derivedImageContext(derived));
        present = await deps.engine.inspectImage(tag);
      }
    } finally {
      lock.release();
    }
  }
  if (!present) throw new RuntimeError(`the features image ${tag} was built but the engine does not list it`);

  const imageEnv = new Map((present.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const env: Record<string, string> = {};
  for (const f of ordered) for (const k of Object.keys(f.meta.containerEnv)) if (imageEnv.has(k)) env[k] = imageEnv.get(k)!;
  return { image: { ref: tag, id: present.id, isDefault: false }, env };
}

// The engine colours a RUN's stderr; the message is plain text.
// eslint-disable-next-line no-control-regex
const ANSI_COLOR = /\x1b\[[0-9;]*m/g;

/**
 * Builds the derived image. The build output is shown only on a terminal, so when an
 * install.sh fails the error names that feature and carries the end of its output.
 */
async function build(deps: FeaturesDeps, tag: string, files: ReturnType<typeof derivedImageContext>): Promise<void> {
  let current: string | undefined;
  let output: string[] = [];
  const progress = (line: string): void => {
    const m = /^spoon: installing feature (.*)$/.exec(line.trim());
    if (m) {
      current = m[1];
      output = [];
    } else if (current !== undefined && !/^(Step \d+\/\d+ :|---> |Removing intermediate container )/.test(line.trim())) output.push(line);
    deps.progress(line);
  };
  try {
    await deps.engine.buildImage({ tag, labels: deps.labels, files }, progress);
  } catch (err) {
    if (current === undefined || !(err instanceof RuntimeError)) throw err;
    const status = /returned a non-zero code: (\d+)/.exec(err.message)?.[1];
    const tail = output.map((l) => l.replace(ANSI_COLOR, '').trimEnd()).filter((l) => l.trim() !== '').slice(-15).map((l) => `  ${l}`).join('\n');
    throw new RuntimeError(`feature '${current}' failed to install${status ? ` (install.sh exited with status ${status})` : ''}${tail ? `; its last output:\n${tail}` : ''}`, { cause: err, hint: 'fix the feature (or its options) and run spoon again; nothing was created' });
  }
}

/** Every feature: devcontainer.json's, and those their dependsOn add (once each, by source). */
async function resolveFeatures(input: FeaturesInput, deps: FeaturesDeps): Promise<ResolvedFeature[]> {
  const out: ResolvedFeature[] = [];
  const seen = new Set<string>();
  const queue = [...input.features];
  while (queue.length > 0) {
    const ref = queue.shift()!;
    const key = sourceKey(ref.source);
    if (seen.has(key)) continue;
    seen.add(key);
    let loaded;
    if (ref.source.kind === 'local') loaded = loadLocalFeature(ref);
    else {
      deps.notice(`fetching feature ${ref.id}`);
      const fetched = await fetchOciFeature(ref, deps.fetchImpl);
      loaded = { files: fetched.files, meta: checkFeatureFiles(fetched.files, ref.id, ref) };
    }
    const { env, unknown } = optionEnv(loaded.meta, ref.options);
    if (loaded.meta.notApplied.length > 0) deps.warn(`${ref.where}: the feature's ${loaded.meta.notApplied.join(', ')} not applied by spoon`);
    if (unknown.length > 0) deps.warn(`${ref.where}: options ${unknown.join(', ')} are not declared by the feature (passed to install.sh anyway)`);
    out.push({ ref, meta: loaded.meta, files: loaded.files, env });
    for (const [id, options] of Object.entries(loaded.meta.dependsOn)) queue.push(dependency(ref, id, options, input));
  }
  return out;
}

function dependency(from: FeatureRef, id: string, options: Record<string, OptionValue>, input: FeaturesInput): FeatureRef {
  const source = parseFeatureId(id, input.resolveDir);
  const where = `${from.where} (dependsOn ${id})`;
  if ('error' in source) throw new RuntimeError(`${where}: ${source.error}`);
  return { id, source, options, where };
}

function dependencyKeys(f: ResolvedFeature, input: FeaturesInput): string[] {
  return Object.keys(f.meta.dependsOn).map((id) => {
    const source = parseFeatureId(id, input.resolveDir);
    return 'error' in source ? id : sourceKey(source);
  });
}
