/** `spoon images`: spoon's own images and the images its envs use. */
import type { Context } from '../../core/context.js';
import { listImages } from '../../core/images.js';
import { formatAge, formatSize, printJson, printTable } from '../output.js';

export async function imagesCommand(ctx: Context, flags: { json?: boolean }): Promise<number> {
  const images = await listImages(ctx);
  if (flags.json) {
    printJson(images);
    return 0;
  }
  if (images.length === 0) {
    process.stderr.write("no images yet; spoon builds its default image on the first `spoon NAME`\n");
    return 0;
  }
  printTable(
    ['IMAGE', 'ID', 'SIZE', 'CREATED', 'BUILT BY SPOON', 'USED BY'],
    images.map((i) => [i.ref, i.id.replace(/^sha256:/, '').slice(0, 12), formatSize(i.size), i.createdAt ? formatAge(i.createdAt) : '-', i.builtBySpoon ? 'yes' : 'no', i.usedBy.join(', ') || '-']),
  );
  return 0;
}
