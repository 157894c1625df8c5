/** A tar of dirs and files as one buffer (a Swarm config's data). */
import type { DirEntry, FileEntry } from '../engine.js';
import { tarOf } from '../docker/archive.js';

export async function tarBuffer(dirs: DirEntry[], files: FileEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarOf(dirs, files)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
