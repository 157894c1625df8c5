/** `spoon stop`, `restart` and `destroy`. */
import type { Context } from '../../core/context.js';
import { destroyEnv, restartEnv, stopEnv } from '../../core/lifecycle.js';
import { validateName } from '../../core/names.js';
import { UsageError } from '../../errors.js';
import { resolveSettings } from '../settings.js';
import { confirm } from '../prompt.js';

const prefixOf = async (ctx: Context, name: string) => (await resolveSettings({}, ctx.env, process.cwd(), name)).options.prefix;

/**
 * Stopping or destroying an env cuts off whoever is attached: say who, ask on a
 * terminal, refuse without --force otherwise. true: go on.
 */
async function othersMayBeCutOff(ctx: Context, name: string, prefix: string, verb: string, force: boolean): Promise<boolean> {
  if (force) return true;
  const { othersAttached, describeClients } = await import('../../pairing/guests.js');
  const others = await othersAttached(ctx, name, prefix);
  if (others.length === 0) return true;
  const who = describeClients(others);
  if (!process.stdin.isTTY) {
    throw new UsageError(`refusing to ${verb} ${name}: others are attached: ${who}`, { hint: `add --force to ${verb} it anyway; \`spoon who ${name}\` lists them` });
  }
  return confirm(`${who} ${others.length > 1 ? 'are' : 'is'} attached to ${name}. ${verb[0]?.toUpperCase()}${verb.slice(1)} it anyway? [y/N] `);
}

export async function stopCommand(ctx: Context, name: string, flags: { force?: boolean } = {}): Promise<number> {
  validateName(name);
  const prefix = await prefixOf(ctx, name);
  if (!(await othersMayBeCutOff(ctx, name, prefix, 'stop', flags.force === true))) {
    ctx.report.info('nothing stopped');
    return 1;
  }
  const result = await stopEnv(ctx, name, prefix);
  ctx.report.info(result === 'stopped' ? `stopped ${name}` : `${name} was not running`);
  return 0;
}

export async function restartCommand(ctx: Context, name: string): Promise<number> {
  validateName(name);
  await restartEnv(ctx, name, await prefixOf(ctx, name));
  ctx.report.info(`restarted ${name}`);
  return 0;
}

interface DestroyFlags {
  force?: boolean;
  yes?: boolean;
  volumes?: boolean;
}

export async function destroyCommand(ctx: Context, name: string, flags: DestroyFlags): Promise<number> {
  validateName(name);
  const prefix = await prefixOf(ctx, name);
  const force = flags.force === true || flags.yes === true;
  if (!(await othersMayBeCutOff(ctx, name, prefix, 'destroy', force))) {
    ctx.report.info('nothing destroyed');
    return 1;
  }
  if (!force) {
    if (!process.stdin.isTTY) {
      throw new UsageError(`refusing to destroy ${name} without confirmation: stdin is not a terminal`, { hint: `add --force (-y) to destroy without asking` });
    }
    const what = flags.volumes ? `${name} and its volumes (the home and all data in it)` : `${name} (its home volume is kept)`;
    if (!(await confirm(`Destroy ${what}? [y/N] `))) {
      ctx.report.info('nothing destroyed');
      return 1;
    }
  }
  const result = await destroyEnv(ctx, name, prefix, flags.volumes ?? false);
  if (result.container) ctx.report.info(`destroyed ${name}`);
  if (result.volumes.length) ctx.report.info(`removed volumes: ${result.volumes.join(', ')}`);
  if (result.keptVolumes.length) ctx.report.info(`kept volumes: ${result.keptVolumes.join(', ')} (spoon ${name} reattaches them; --volumes removes them)`);
  return 0;
}
