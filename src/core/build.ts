/**
 * `spoon build [DIR]`: the `prebuild` commands on the host, then a build of DIR
 * (or the configured builddir) with streamed progress; with neither, spoon's
 * embedded default image.
 */
import { join, resolve } from 'node:path';
import type { EnvOptions } from '../config/schema.js';
import { CommandFailedError } from '../errors.js';
import { buildFromFolder, ensureDefaultImage, type ImageRef } from '../images/ensure-image.js';
import { runHostShell } from '../ssh/spawn.js';
import type { Context } from './context.js';
import { LABEL, spoonVersion } from './labels.js';

export interface BuildRequest {
  dir: string | undefined;
  tag: string | undefined;
  cwd: string;
}

export async function buildImage(ctx: Context, options: EnvOptions, req: BuildRequest): Promise<ImageRef> {
  for (const [i, command] of options.prebuild.entries()) {
    ctx.report.info(`prebuild ${i + 1}/${options.prebuild.length}: ${command}`);
    const status = await runHostShell(command, req.cwd, (l) => ctx.report.debug(l));
    if (status !== 0) throw new CommandFailedError(`prebuild command ${i + 1} (${command}) failed with exit status ${status}`, status, { hint: 'nothing was built' });
  }
  const engine = await ctx.engine();
  const deps = {
    engine,
    notice: (m: string) => ctx.report.info(m),
    progress: (line: string) => ctx.report.progress(line),
    lockPath: (key: string) => ctx.paths.lock(key),
    labels: { [LABEL.builtImage]: 'build', [LABEL.version]: spoonVersion },
  };
  const dir = req.dir ?? options.builddir;
  if (dir === undefined) {
    const built = await ensureDefaultImage({ ...deps, labels: { ...deps.labels, [LABEL.builtImage]: 'default' } }, true);
    return built;
  }
  const context = resolve(req.cwd, dir);
  // docker-spoon tagged builds with the configured image name.
  return buildFromFolder({ kind: 'build', context, dockerfile: join(context, 'Dockerfile'), args: {}, target: undefined, tag: req.tag ?? options.image }, deps);
}
