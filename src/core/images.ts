/** `spoon images`: the images spoon built, and the images its envs use. */
import type { Context } from './context.js';
import { LABEL, envNameOf } from './labels.js';

export interface ImageSummary {
  ref: string;
  id: string;
  size: number;
  createdAt: string;
  builtBySpoon: boolean;
  usedBy: string[];
}

export async function listImages(ctx: Context): Promise<ImageSummary[]> {
  const engine = await ctx.engine();
  const [built, containers] = await Promise.all([engine.listImages({ [LABEL.builtImage]: true }), engine.listContainers({ [LABEL.name]: true })]);
  const byId = new Map<string, ImageSummary>();
  for (const img of built) {
    byId.set(img.id, { ref: img.tags[0] ?? img.id.slice(7, 19), id: img.id, size: img.size, createdAt: img.createdAt, builtBySpoon: true, usedBy: [] });
  }
  const missing = new Set<string>();
  for (const c of containers) {
    const env = envNameOf(c) ?? c.name;
    const entry = byId.get(c.imageId);
    if (entry) entry.usedBy.push(env);
    else missing.add(c.imageId);
  }
  await Promise.all(
    [...missing].map(async (id) => {
      const img = await engine.inspectImage(id);
      const users = containers.filter((c) => c.imageId === id).map((c) => envNameOf(c) ?? c.name);
      byId.set(id, {
        ref: img?.tags[0] ?? containers.find((c) => c.imageId === id)?.image ?? id,
        id,
        size: img?.size ?? 0,
        createdAt: img?.createdAt ?? '',
        builtBySpoon: false,
        usedBy: users,
      });
    }),
  );
  return [...byId.values()].sort((a, b) => a.ref.localeCompare(b.ref));
}
