/** `spoon pool [--json]`, `spoon pool fill`, `spoon pool drain`: the warm pool (core/pool.ts). */
import { readFileSync, rmSync } from 'node:fs';
import type { Context } from '../../core/context.js';
import { drainPool, fillPool, listPool } from '../../core/pool.js';
import { decodePlan, planEnv, planHash, type EnvPlan } from '../../core/plan.js';
import { UsageError } from '../../errors.js';
import { resolveSettings } from '../settings.js';
import { formatAge, printJson, printTable } from '../output.js';

export async function poolCommand(ctx: Context, flags: { json?: boolean }): Promise<number> {
  const members = await listPool(ctx);
  const settings = await resolveSettings(flags, ctx.env, process.cwd());
  const plan = planEnv(settings.options, settings.devcontainer);
  const hash = planHash(plan);
  if (flags.json) {
    printJson({ size: settings.options.pool, configHash: hash, members: members.map((m) => ({ ...m, ageSeconds: Math.max(0, Math.round((Date.now() - Date.parse(m.createdAt)) / 1000)) })) });
    return 0;
  }
  ctx.report.info(`pool = ${settings.options.pool} for this configuration (${hash})`);
  if (members.length === 0) {
    process.stderr.write('no pool members; `spoon pool fill` makes them\n');
    return 0;
  }
  printTable(
    ['MEMBER', 'CONFIG', 'STATE', 'CLAIMABLE', 'CREATED'],
    members.map((m) => [m.name, m.configHash === hash ? `${m.configHash} (this)` : m.configHash, m.state, m.claimable ? 'yes' : 'no', formatAge(m.createdAt)]),
  );
  return 0;
}

export async function poolFillCommand(ctx: Context, flags: { background?: boolean; planFile?: string; [k: string]: unknown }): Promise<number> {
  const plan = flags.planFile ? readPlanFile(flags.planFile) : await currentPlan(ctx, flags);
  if (flags.background) {
    // The refill a claim started: its output is the refill log. It waits for a fill at work, which may have looked at the members before this claim.
    const started = new Date().toISOString();
    try {
      const done = await fillPool(ctx, plan, { wait: true });
      process.stderr.write(`${started} refill: ${done.busy ? 'another fill is at work' : `made ${done.made.length}, discarded ${done.discarded.length}`}\n`);
    } catch (err) {
      process.stderr.write(`${started} refill failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return 0;
  }
  if (plan.options.pool === 0) {
    throw new UsageError('pool is 0 for this configuration: nothing to fill', { hint: 'set it: pool = 2 in ~/.config/spoon/config.toml or the project\'s spoon.toml, or SPOON_POOL=2' });
  }
  const done = await fillPool(ctx, plan, { wait: true });
  for (const m of done.made) process.stdout.write(`${m}\n`);
  ctx.report.info(`pool: ${plan.options.pool} ready (made ${done.made.length}${done.discarded.length ? `, discarded ${done.discarded.length}` : ''})`);
  return 0;
}

export async function poolDrainCommand(ctx: Context): Promise<number> {
  const done = await drainPool(ctx);
  for (const m of done.members) process.stdout.write(`${m}\n`);
  ctx.report.info(`pool: removed ${done.members.length} member(s) and ${done.volumes.length} volume(s)`);
  return 0;
}

async function currentPlan(ctx: Context, flags: Record<string, unknown>): Promise<EnvPlan> {
  const settings = await resolveSettings(flags, ctx.env, process.cwd());
  return planEnv(settings.options, settings.devcontainer);
}

function readPlanFile(path: string): EnvPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } finally {
    rmSync(path, { force: true });
  }
  const raw = JSON.parse(text) as EnvPlan;
  const plan = decodePlan(text, planHash(raw));
  if (!plan) throw new UsageError(`${path}: not a plan spoon wrote`);
  return plan;
}
