/**
 * Makes sure the image an env needs is on the engine: the configured one (pulled
 * if missing) or spoon's default (built from its embedded Dockerfile if missing).
 * Cached by tag: when the image is present this is one inspect request.
 */
import type { Engine, ProgressSink } from '../engine/engine.js';
import { EngineApiError } from '../engine/engine.js';
import { RuntimeError } from '../errors.js';
import { acquireLock } from '../state/lock.js';
import { DEFAULT_DOCKERFILE, defaultImageTag } from './default-image.js';

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

export async function ensureImage(requested: string | undefined, deps: EnsureImageDeps): Promise<ImageRef> {
  if (requested !== undefined) return ensureConfiguredImage(requested, deps);
  return ensureDefaultImage(deps);
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

async function ensureDefaultImage({ engine, notice, progress, lockPath, labels }: EnsureImageDeps): Promise<ImageRef> {
  const tag = defaultImageTag();
  const present = await engine.inspectImage(tag);
  if (present) return { ref: tag, id: present.id, isDefault: true };

  const lock = await acquireLock(lockPath(`image-${tag.replace(/[^a-z0-9]/gi, '_')}`), `image ${tag}`, 15 * 60_000, () =>
    notice(`waiting for another spoon process that is building ${tag}`),
  );
  try {
    const builtMeanwhile = await engine.inspectImage(tag);
    if (builtMeanwhile) return { ref: tag, id: builtMeanwhile.id, isDefault: true };
    notice(`building spoon's default image ${tag} (first use only, about 30 s)`);
    const id = await engine.buildImage(
      { tag, labels, files: [{ path: 'Dockerfile', content: DEFAULT_DOCKERFILE, mode: 0o644 }] },
      progress,
    );
    return { ref: tag, id, isDefault: true };
  } finally {
    lock.release();
  }
}
