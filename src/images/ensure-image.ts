/**
 * Makes sure the image an env needs is on the engine: a named one (pulled if
 * missing), one built from a folder (builddir, devcontainer.json's build; the
 * engine's layer cache makes a rebuild of an unchanged folder quick), or spoon's
 * default (built from its embedded Dockerfile once, tagged by its hash).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Engine, ProgressSink } from '../engine/engine.js';
import { EngineApiError } from '../engine/engine.js';
import { RuntimeError } from '../errors.js';
import { acquireLock } from '../state/lock.js';
import { buildContext } from './build-context.js';
import { DEFAULT_DOCKERFILE, defaultImageTag } from './default-image.js';

export type ImageSource =
  | { kind: 'default' }
  | { kind: 'ref'; ref: string }
  | { kind: 'build'; context: string; dockerfile: string; args: Record<string, string>; target: string | undefined; tag: string | undefined };

export interface ImageRef {
  ref: string;
  id: string;
  isDefault: boolean;
}

export interface EnsureImageDeps {
  engine: Engine;
  /** One-line notices ("building ..."), always shown. */
  notice: (message: string) => void;
  /** The engine's streamed output. */
  progress: ProgressSink;
  /** Path of the lock that keeps two spoon processes from building the same image at once. */
  lockPath: (key: string) => string;
  labels: Record<string, string>;
}

export async function ensureImage(source: ImageSource, deps: EnsureImageDeps): Promise<ImageRef> {
  switch (source.kind) {
    case 'ref':
      return ensureConfiguredImage(source.ref, deps);
    case 'build':
      return buildFromFolder(source, deps);
    case 'default':
      return ensureDefaultImage(deps, false);
  }
}

/** The tag for a folder's image when none is given: stable per folder. */
export function folderImageTag(context: string): string {
  const slug = basename(context).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+/, '') || 'project';
  return `spoon-build-${slug}:${createHash('sha256').update(context).digest('hex').slice(0, 8)}`;
}

async function ensureConfiguredImage(ref: string, { engine, notice, progress }: EnsureImageDeps): Promise<ImageRef> {
  const present = await engine.inspectImage(ref);
  if (present) return { ref, id: present.id, isDefault: false };
  notice(`pulling ${ref}`);
  try {
    await engine.pullImage(ref, progress);
  } catch (err) {
    const why = err instanceof EngineApiError ? err.engineMessage : err instanceof Error ? err.message : String(err);
    throw new RuntimeError(`image '${ref}' is not on the engine and could not be pulled: ${why}`, {
      hint: 'check the name, `docker pull` it yourself, or leave --image unset to use spoon\'s default image',
      cause: err,
    });
  }
  const pulled = await engine.inspectImage(ref);
  if (!pulled) throw new RuntimeError(`image '${ref}' was pulled but the engine does not list it`);
  return { ref, id: pulled.id, isDefault: false };
}

export async function buildFromFolder(source: Extract<ImageSource, { kind: 'build' }>, { engine, notice, progress, labels }: EnsureImageDeps): Promise<ImageRef> {
  const tag = source.tag ?? folderImageTag(source.context);
  const { files, dockerfile } = buildContext({ context: source.context, dockerfile: source.dockerfile });
  notice(`building ${tag} from ${source.context}`);
  const id = await engine.buildImage({ tag, labels, files, dockerfile, args: source.args, ...(source.target ? { target: source.target } : {}) }, progress);
  return { ref: tag, id, isDefault: false };
}

/** spoon's embedded image; `rebuild` builds it even when present (`spoon build` with nothing configured). */
export async function ensureDefaultImage({ engine, notice, progress, lockPath, labels }: EnsureImageDeps, rebuild: boolean): Promise<ImageRef> {
  const tag = defaultImageTag();
  const present = await engine.inspectImage(tag);
  if (present && !rebuild) return { ref: tag, id: present.id, isDefault: true };

  const lock = await acquireLock(lockPath(`image-${tag.replace(/[^a-z0-9]/gi, '_')}`), `image ${tag}`, 15 * 60_000, () =>
    notice(`waiting for another spoon process that is building ${tag}`),
  );
  try {
    const builtMeanwhile = rebuild ? undefined : await engine.inspectImage(tag);
    if (builtMeanwhile) return { ref: tag, id: builtMeanwhile.id, isDefault: true };
    notice(`building spoon's default image ${tag}${rebuild ? '' : ' (first use only, about 30 s)'}`);
    const id = await engine.buildImage(
      { tag, labels, files: [{ path: 'Dockerfile', content: DEFAULT_DOCKERFILE, mode: 0o644 }] },
      progress,
    );
    return { ref: tag, id, isDefault: true };
  } finally {
    lock.release();
  }
}
