/**
 * Snapshots (SPEC "Persistence, snapshots, healing"): `snapshot NAME [TAG]` commits
 * the env's container to the image `spoon-snapshot/NAME:TAG` and copies each of its
 * persist volumes to `spoon-snap-NAME-TAG-<slug>`; `up NEW --from NAME:TAG` makes an
 * env from that image whose volumes start as those copies. Volumes are copied
 * through the archive API of created-but-never-started containers, so nothing runs
 * in the image. A running env is paused while it is committed and copied, so the
 * snapshot is one point in time.
 */
import { randomBytes } from 'node:crypto';
import type { Engine, ImageInfo, VolumeInfo } from '../engine/engine.js';
import { NoSuchEnvError, RuntimeError } from '../errors.js';
import { acquireLock } from '../state/lock.js';
import { rmSync } from 'node:fs';
import { writeAtomic } from '../state/files.js';
import type { Context } from './context.js';
import { findEnv } from './find-env.js';
import { LABEL, envNameOf, volumeOwnerOf } from './labels.js';
import { persistVolumeName, snapshotRepo, snapshotVolumeName } from './names.js';
import { undoOnFailure } from './undo.js';
import { checkpoint } from './checkpoint.js';

export interface SnapshotRef {
  name: string;
  tag: string;
}

export interface SnapshotVolume {
  name: string;
  /** The persist path the volume holds (`~` for the home). */
  persist: string;
}

export interface SnapshotSummary {
  snapshot: string;
  env: string;
  tag: string;
  image: string;
  imageId: string;
  createdAt: string;
  size: number;
  volumes: SnapshotVolume[];
}

const COPY_ROOT = '/spoon-copy';

/** The default TAG: the UTC time, e.g. 20261123-205412. */
export function timestampTag(now = new Date()): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export const refText = (ref: SnapshotRef) => `${ref.name}:${ref.tag}`;

/** Labels of the env's own that its snapshot objects carry along (user labels; not spoon's). */
function foreignLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('dev.spoon.')));
}

export async function takeSnapshot(ctx: Context, ref: SnapshotRef, prefix: string): Promise<SnapshotSummary> {
  const engine = await ctx.engine();
  const key = refText(ref);
  const lock = await acquireLock(ctx.paths.lock(ref.name), `environment ${ref.name}`, 60_000);
  try {
    const c = await findEnv(engine, ref.name, prefix);
    if (!c) throw new NoSuchEnvError(ref.name);
    const repo = snapshotRepo(ref.name);
    const imageRef = `${repo}:${ref.tag}`;
    const [existing, taken, sources, allVolumes] = await Promise.all([
      engine.listImages({ [LABEL.snapshot]: key }),
      engine.inspectImage(imageRef),
      // An env claimed from the warm pool has the member's volumes.
      engine.listVolumes({ [LABEL.name]: volumeOwnerOf(c) ?? ref.name, [LABEL.persist]: true }),
      engine.listVolumes({}),
    ]);
    if (existing.length > 0 || taken) {
      throw new RuntimeError(`snapshot ${key} already exists${taken && existing.length === 0 ? ` (the image ${imageRef} is taken)` : ''}`, {
        hint: `choose another TAG, or remove it first: spoon snapshot rm ${key}`,
      });
    }
    const names = new Set(allVolumes.map((v) => v.name));
    const copies = sources.map((v) => {
      const persist = v.labels[LABEL.persist] ?? '';
      return { source: v, persist, name: snapshotVolumeName(ref.name, ref.tag, persist) };
    });
    const clash = copies.find((t) => names.has(t.name));
    if (clash) throw new RuntimeError(`volume ${clash.name} already exists`, { hint: 'choose another TAG' });

    // Resumed on every way out: success, failure, and Ctrl-C (whose handler exits from the undo).
    let paused = false;
    const resume = async () => {
      if (!paused) return;
      paused = false;
      await engine.unpauseContainer(c.id);
      rmSync(ctx.paths.pausedMarker(ref.name), { force: true });
    };
    try {
      return await undoOnFailure(
        async () => {
          if (c.state === 'running') {
            ctx.report.verbose(`pausing ${ref.name} while it is snapshotted`);
            // A connection through the cached ssh master would hang on the paused sshd: the marker sends connects to the engine.
            writeAtomic(ctx.paths.pausedMarker(ref.name), `${ctx.proc.pid}\n`);
            await engine.pauseContainer(c.id);
            paused = true;
          }
          await checkpoint(ctx, 'snapshot:paused');
          const imageId = await engine.commitContainer(c.id, { repo, tag: ref.tag, labels: { [LABEL.snapshot]: key, [LABEL.snapshotOf]: ref.name } });
          ctx.timeline.mark('commit');
          for (const t of copies) {
            await engine.ensureVolume(t.name, { ...foreignLabels(t.source.labels), [LABEL.snapshot]: key, [LABEL.persist]: t.persist });
          }
          await copyVolumes(
            engine,
            imageId,
            copies.map((t) => ({ from: t.source.name, to: t.name })),
          );
          ctx.timeline.mark('copy');
          await checkpoint(ctx, 'snapshot:copied');
          const image = await engine.inspectImage(imageId);
          return summary(ref, imageRef, image, copies);
        },
        async () => {
          await resume();
          await engine.removeImage(imageRef);
          for (const t of copies) if (!names.has(t.name)) await engine.removeVolume(t.name);
        },
        ctx,
      );
    } finally {
      await resume();
    }
  } finally {
    lock.release();
  }
}

function summary(ref: SnapshotRef, imageRef: string, image: ImageInfo | undefined, volumes: { name: string; persist: string }[]): SnapshotSummary {
  return {
    snapshot: refText(ref),
    env: ref.name,
    tag: ref.tag,
    image: imageRef,
    imageId: image?.id ?? '',
    createdAt: image?.createdAt ?? '',
    size: image?.size ?? 0,
    volumes: volumes.map((v) => ({ name: v.name, persist: v.persist })).sort((a, b) => a.persist.localeCompare(b.persist)),
  };
}

export async function listSnapshots(ctx: Context, env: string | undefined): Promise<SnapshotSummary[]> {
  const engine = await ctx.engine();
  const [images, volumes] = await Promise.all([engine.listImages(env ? { [LABEL.snapshotOf]: env } : { [LABEL.snapshot]: true }), engine.listVolumes({ [LABEL.snapshot]: true })]);
  const out: SnapshotSummary[] = [];
  for (const img of images) {
    const key = img.labels[LABEL.snapshot];
    const of = img.labels[LABEL.snapshotOf];
    if (!key || !of || !key.startsWith(`${of}:`)) continue;
    const ref = { name: of, tag: key.slice(of.length + 1) };
    const repo = snapshotRepo(ref.name);
    const vols = volumes.filter((v) => v.labels[LABEL.snapshot] === key).map((v) => ({ name: v.name, persist: v.labels[LABEL.persist] ?? '' }));
    out.push(summary(ref, img.tags.find((t) => t.startsWith(`${repo}:`)) ?? img.tags[0] ?? img.id, img, vols));
  }
  return out.sort((a, b) => a.env.localeCompare(b.env) || a.createdAt.localeCompare(b.createdAt) || a.tag.localeCompare(b.tag));
}

/** The snapshot's image and volumes; a missing snapshot is an error naming it. */
export async function findSnapshot(engine: Engine, ref: SnapshotRef): Promise<{ image: ImageInfo; imageRef: string; volumes: VolumeInfo[] }> {
  const key = refText(ref);
  const [images, volumes] = await Promise.all([engine.listImages({ [LABEL.snapshot]: key }), engine.listVolumes({ [LABEL.snapshot]: key })]);
  const image = images.find((i) => i.labels[LABEL.snapshotOf] === ref.name);
  if (!image) throw new RuntimeError(`no snapshot ${key}`, { hint: `list them with: spoon snapshots ${ref.name}` });
  const repo = snapshotRepo(ref.name);
  return { image, imageRef: image.tags.find((t) => t.startsWith(`${repo}:`)) ?? image.id, volumes };
}

export async function removeSnapshot(ctx: Context, ref: SnapshotRef): Promise<SnapshotVolume[]> {
  const engine = await ctx.engine();
  const snap = await findSnapshot(engine, ref);
  const users = (await engine.listContainers({ [LABEL.name]: true })).filter((c) => c.imageId === snap.image.id);
  if (users.length > 0) {
    const envs = users.map((c) => envNameOf(c) ?? c.name).join(', ');
    throw new RuntimeError(`snapshot ${refText(ref)} is the image of ${envs}`, { hint: `destroy ${users.length > 1 ? 'them' : 'it'} first (its volumes are kept)` });
  }
  await engine.removeImage(snap.imageRef);
  for (const v of snap.volumes) await engine.removeVolume(v.name);
  return snap.volumes.map((v) => ({ name: v.name, persist: v.labels[LABEL.persist] ?? '' }));
}

/**
 * `up NEW --from NAME:TAG`, before NEW's container is made: creates NEW's persist
 * volumes with the snapshot's content. Volumes NEW already has (left by an earlier
 * NEW) are refused rather than mixed with the snapshot.
 */
export async function restoreSnapshotVolumes(
  ctx: Context,
  engine: Engine,
  ref: SnapshotRef,
  name: string,
  persist: string[],
  labels: Record<string, string>,
): Promise<void> {
  const snap = await findSnapshot(engine, ref);
  const existing = new Set((await engine.listVolumes({})).map((v) => v.name));
  const pairs: { from: string; to: string }[] = [];
  for (const path of persist) {
    const target = persistVolumeName(name, path);
    const source = snap.volumes.find((v) => v.labels[LABEL.persist] === path);
    if (!source) {
      ctx.report.warn(`snapshot ${refText(ref)} has no copy of ${path}; ${name} starts with it empty`);
      continue;
    }
    if (existing.has(target)) {
      throw new RuntimeError(`volume ${target} (${path} of an earlier ${name}) still exists; spoon will not mix it with snapshot ${refText(ref)}`, {
        hint: `remove it with \`spoon destroy ${name} --volumes\`, or choose another name`,
      });
    }
    pairs.push({ from: source.name, to: target });
  }
  for (const v of snap.volumes) {
    const path = v.labels[LABEL.persist] ?? '';
    if (!persist.includes(path)) ctx.report.warn(`snapshot ${refText(ref)} holds ${path}, which ${name} does not persist; it is not restored`, `add --persist ${path}`);
  }
  for (const path of persist) {
    if (pairs.some((p) => p.to === persistVolumeName(name, path))) await engine.ensureVolume(persistVolumeName(name, path), { ...labels, [LABEL.name]: name, [LABEL.persist]: path });
  }
  await copyVolumes(engine, snap.image.id, pairs);
  ctx.timeline.mark('restore');
}

/**
 * Copies each volume `from` into volume `to` through two created, never started
 * containers of `image` (one mounting the sources, one the targets), removed
 * afterwards whatever happens.
 */
async function copyVolumes(engine: Engine, image: string, pairs: { from: string; to: string }[]): Promise<void> {
  if (pairs.length === 0) return;
  const made: string[] = [];
  const make = async (role: string, volumes: string[]) => {
    const id = await engine.createContainer({
      name: `spoon-copy-${randomBytes(4).toString('hex')}-${role}`,
      image,
      labels: { [LABEL.temporary]: 'copy' },
      entrypoint: ['/spoon-never-started'],
      cmd: [],
      publish: [],
      mounts: volumes.map((v, i) => ({ type: 'volume' as const, source: v, target: `${COPY_ROOT}/${i}` })),
    });
    made.push(id);
    return id;
  };
  try {
    const from = await make('from', pairs.map((p) => p.from));
    const to = await make('to', pairs.map((p) => p.to));
    for (let i = 0; i < pairs.length; i++) await engine.copyPath(from, `${COPY_ROOT}/${i}`, to, `${COPY_ROOT}/${i}`);
  } finally {
    for (const id of made) await engine.removeContainer(id).catch(() => undefined);
  }
}
