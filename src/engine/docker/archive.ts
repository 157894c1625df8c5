/**
 * Tar streams for the archive and build APIs. tar-stream is loaded here only, and
 * this module is only loaded by the Docker engine implementation.
 */
import { pack, extract } from 'tar-stream';
import type { Readable } from 'node:stream';
import type { DirEntry, FileEntry } from '../engine.js';

/** A tar of directories then files, paths relative to `/` (the archive API's target). */
export function tarOf(dirs: DirEntry[], files: Pick<FileEntry, 'path' | 'content' | 'mode' | 'uid' | 'gid'>[]): Readable {
  const archive = pack();
  const mtime = new Date();
  for (const d of dirs) {
    archive.entry({ name: relative(d.path) + '/', type: 'directory', mode: d.mode, uid: d.uid ?? 0, gid: d.gid ?? 0, mtime });
  }
  for (const f of files) {
    const content = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
    archive.entry({ name: relative(f.path), mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0, mtime }, content);
  }
  archive.finalize();
  return archive as unknown as Readable;
}

/** The content of the first regular file in a tar stream (GET /containers/{id}/archive of one file). */
export async function firstFileOf(stream: Readable): Promise<Buffer | undefined> {
  const ex = extract();
  // A dropped connection ends the extraction with its error instead of leaving it waiting.
  stream.once('error', (err) => ex.destroy(err));
  stream.pipe(ex as unknown as NodeJS.WritableStream);
  let found: Buffer | undefined;
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (found === undefined && entry.header.type === 'file') found = Buffer.concat(chunks);
  }
  return found;
}

/**
 * Re-roots a tar of directory `fromPath` (entries named `<basename>/...`, as the archive
 * API's GET gives them) at `toPath` (entries named `<toPath without the leading />/...`),
 * to PUT at `/`. Streams entry by entry; hard-link targets move with their entries.
 */
export function rebaseTar(input: Readable, fromPath: string, toPath: string): Readable {
  const base = fromPath.replace(/\/+$/, '').split('/').pop() ?? '';
  const target = relative(toPath).replace(/\/+$/, '');
  const rename = (name: string): string => {
    const rest = name === base ? '' : name.startsWith(`${base}/`) ? name.slice(base.length) : `/${name}`;
    return target + rest;
  };
  const ex = extract();
  const out = pack();
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex as unknown as NodeJS.WritableStream);
  void (async () => {
    for await (const entry of ex) {
      const header = { ...entry.header, name: rename(entry.header.name) };
      if (header.type === 'link' && header.linkname) header.linkname = rename(header.linkname);
      if (header.pax) {
        // path and linkpath are written from name and linkname; keep the rest (times, xattrs).
        const pax: Record<string, string> = { ...(header.pax as Record<string, string>) };
        delete pax.path;
        delete pax.linkpath;
        header.pax = Object.keys(pax).length ? pax : undefined;
      }
      await new Promise<void>((resolve, reject) => {
        const sink = out.entry(header, (err) => (err ? reject(err) : resolve()));
        entry.on('error', reject);
        entry.pipe(sink);
      });
    }
    out.finalize();
  })().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out as unknown as Readable;
}

function relative(path: string): string {
  return path.replace(/^\/+/, '');
}
