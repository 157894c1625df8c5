/**
 * Which volumes are an env's when it was claimed from the warm pool. Volume names and
 * labels are fixed when a volume is made, so a claimed env keeps the member's volumes
 * (`spoon-_pool-…-home`), and a label-only volume `spoon-NAME-_pool-ref` records whose
 * they are. While the claimed container exists its own labels say it too; the ref is what
 * outlives it (destroy, healing's recreate), so the next `spoon NAME` reattaches them.
 */
import type { ContainerInfo, Engine, VolumeInfo } from '../engine/engine.js';
import { LABEL, volumeOwnerOf } from './labels.js';

/** Never a persist volume's name: their slugs have no `_`. */
export function poolRefVolumeName(name: string): string {
  return `spoon-${name}-_pool-ref`;
}

/** The member whose volumes NAME's are, from the volumes labelled NAME; undefined: NAME's own. */
export function poolRefOwner(volumes: VolumeInfo[]): string | undefined {
  return volumes.find((v) => v.labels[LABEL.poolRef] !== undefined)?.labels[LABEL.poolRef];
}

/** Records (again; idempotent) that the claimed env `name`'s volumes are its member's, before its container goes. */
export async function writePoolRef(engine: Engine, name: string, c: ContainerInfo, labels: Record<string, string>): Promise<void> {
  const owner = volumeOwnerOf(c);
  if (owner === undefined) return;
  await engine.ensureVolume(poolRefVolumeName(name), { ...labels, [LABEL.name]: name, [LABEL.poolRef]: owner });
}
