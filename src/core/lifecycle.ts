/** stop, restart and destroy: nothing here deletes user data unless asked to. */
import type { Context } from './context.js';
import { closeMaster } from './connect.js';
import { findEnv } from './find-env.js';
import { LABEL, volumeOwnerOf } from './labels.js';
import { poolRefOwner, poolRefVolumeName, writePoolRef } from './pool-ref.js';
import { NoSuchEnvError } from '../errors.js';
import { forgetEnvState } from '../state/env-state.js';
import { rmSync } from 'node:fs';
import { acquireLock } from '../state/lock.js';
import { checkpoint } from './checkpoint.js';

const STOP_TIMEOUT_S = 10;

export async function stopEnv(ctx: Context, name: string, prefix: string): Promise<'stopped' | 'already stopped'> {
  const engine = await ctx.engine();
  const c = await findEnv(engine, name, prefix);
  if (!c) throw new NoSuchEnvError(name);
  await closeMaster(ctx, name);
  if (c.state !== 'running' && c.state !== 'paused' && c.state !== 'restarting') return 'already stopped';
  await engine.stopContainer(c.id, STOP_TIMEOUT_S);
  return 'stopped';
}

export async function restartEnv(ctx: Context, name: string, prefix: string): Promise<void> {
  const engine = await ctx.engine();
  const c = await findEnv(engine, name, prefix);
  if (!c) throw new NoSuchEnvError(name);
  await closeMaster(ctx, name);
  await engine.restartContainer(c.id, STOP_TIMEOUT_S);
}

export interface DestroyResult {
  container: boolean;
  volumes: string[];
  keptVolumes: string[];
}

/**
 * Removes the container; its volumes stay unless `removeVolumes`. Errors if there was
 * nothing at all. Ordered so that an interruption at any point leaves a state the next
 * command handles: the local cache goes first (the engine is the truth and the pin is
 * re-read from it), then the container, then the volumes one by one (destroy again
 * removes the rest).
 */
export async function destroyEnv(ctx: Context, name: string, prefix: string, removeVolumes: boolean): Promise<DestroyResult> {
  const engine = await ctx.engine();
  const lock = await acquireLock(ctx.paths.lock(name), `environment ${name}`, 60_000);
  try {
    const [c, own] = await Promise.all([findEnv(engine, name, prefix), engine.listVolumes({ [LABEL.name]: name })]);
    if (!c && (own.length === 0 || !removeVolumes)) throw new NoSuchEnvError(name);
    // Claimed from the warm pool: its volumes are the member's, and the record of that (the ref) goes last.
    const owner = (c && volumeOwnerOf(c)) ?? poolRefOwner(own);
    const ref = poolRefVolumeName(name);
    const volumes = [...(owner ? await engine.listVolumes({ [LABEL.name]: owner }) : []), ...own.filter((v) => v.name !== ref), ...own.filter((v) => v.name === ref)];
    await checkpoint(ctx, 'destroy:begin');
    await closeMaster(ctx, name);
    // The pin and cached state belong to the container about to go.
    forgetEnvState(ctx.paths.envState(name));
    rmSync(ctx.paths.envDir(name), { recursive: true, force: true });
    await checkpoint(ctx, 'destroy:forgotten');
    // Without the container, only the ref tells the next `spoon NAME` which volumes are NAME's.
    if (c) await writePoolRef(engine, name, c, {});
    if (c) await engine.removeContainer(c.id);
    await checkpoint(ctx, 'destroy:container-removed');
    const names = volumes.map((v) => v.name);
    if (removeVolumes) {
      for (const [i, v] of names.entries()) {
        await engine.removeVolume(v);
        if (i === 0) await checkpoint(ctx, 'destroy:volume-removed');
      }
    }
    const shown = names.filter((v) => v !== ref);
    return { container: c !== undefined, volumes: removeVolumes ? shown : [], keptVolumes: removeVolumes ? [] : shown };
  } finally {
    lock.release();
  }
}
