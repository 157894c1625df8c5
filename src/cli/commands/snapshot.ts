/** `spoon snapshot NAME [TAG]`, `spoon snapshot rm NAME:TAG`, `spoon snapshots [NAME]`. */
import type { Context } from '../../core/context.js';
import { parseSnapshotRef, validateName, validateTag } from '../../core/names.js';
import { listSnapshots, removeSnapshot, takeSnapshot, timestampTag } from '../../core/snapshot.js';
import { resolveSettings } from '../settings.js';
import { formatAge, formatSize, printJson, printTable } from '../output.js';

export async function snapshotCommand(ctx: Context, name: string, tag: string | undefined, flags: { json?: boolean }): Promise<number> {
  validateName(name);
  const ref = { name, tag: tag === undefined ? timestampTag() : validateTag(tag) };
  const prefix = (await resolveSettings({}, ctx.env, process.cwd(), name)).options.prefix;
  const snap = await takeSnapshot(ctx, ref, prefix);
  if (flags.json) printJson(snap);
  else process.stdout.write(`${snap.snapshot}\n`);
  ctx.report.info(`snapshot ${snap.snapshot}: image ${snap.image}, ${snap.volumes.length} volume(s); a new env from it: spoon up NEW --from ${snap.snapshot}`);
  return 0;
}

export async function snapshotsCommand(ctx: Context, name: string | undefined, flags: { json?: boolean }): Promise<number> {
  if (name !== undefined) validateName(name);
  const snaps = await listSnapshots(ctx, name);
  if (flags.json) {
    printJson(snaps);
    return 0;
  }
  if (snaps.length === 0) {
    process.stderr.write(`no snapshots${name ? ` of ${name}` : ''}; take one with \`spoon snapshot NAME [TAG]\`\n`);
    return 0;
  }
  printTable(
    ['SNAPSHOT', 'CREATED', 'SIZE', 'VOLUMES'],
    snaps.map((s) => [s.snapshot, s.createdAt ? formatAge(s.createdAt) : '-', formatSize(s.size), s.volumes.map((v) => v.persist).join(', ') || '-']),
  );
  return 0;
}

export async function snapshotRmCommand(ctx: Context, refText: string): Promise<number> {
  const ref = parseSnapshotRef(refText);
  const volumes = await removeSnapshot(ctx, ref);
  ctx.report.info(`removed snapshot ${ref.name}:${ref.tag} and ${volumes.length} volume(s)${volumes.length ? `: ${volumes.map((v) => v.name).join(', ')}` : ''}`);
  return 0;
}
