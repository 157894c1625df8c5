/**
 * The warm pool's background refill after a claim: a detached `spoon pool fill` child that
 * outlives this command and never delays or fails it. Its plan travels in a private file
 * (it may hold `env` values); what it says goes to pool/refill.log in spoon's state.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { encodePlan, type EnvPlan } from '../core/plan.js';
import { writeAtomic } from '../state/files.js';
import { KEYS, KEY_NAMES } from '../config/schema.js';
import type { ResolvedOptions } from '../config/layers.js';

const LOG_LIMIT = 256 * 1024;

export function refillLog(ctx: Context): string {
  return join(ctx.paths.root, 'pool', 'refill.log');
}

/**
 * The refill for a new env's configuration, when it is one the pool is kept for: set by
 * files and SPOON_* variables. Creation flags make a one-off configuration that no
 * `spoon pool fill` keeps, so a pool is not started for each of them.
 */
export function refillFor(ctx: Context, settings: ResolvedOptions): ((plan: EnvPlan) => void) | undefined {
  if (KEY_NAMES.some((k) => KEYS[k].creation && settings.sources[k].kind === 'flag')) return undefined;
  return (plan) => spawnRefill(ctx, plan);
}

export function spawnRefill(ctx: Context, plan: EnvPlan): void {
  try {
    const planFile = join(ctx.paths.root, 'pool', `refill-${process.pid}-${randomBytes(4).toString('hex')}.json`);
    writeAtomic(planFile, encodePlan(plan), 0o600);
    const log = refillLog(ctx);
    let size = 0;
    try {
      size = statSync(log).size;
    } catch {
      // no log yet
    }
    const fd = openSync(log, size > LOG_LIMIT ? 'w' : 'a', 0o600);
    const script = process.argv[1] ?? '';
    const child = spawn(process.execPath, [script, '--engine', ctx.endpoint.url, 'pool', 'fill', '--background', '--plan-file', planFile], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.on('error', () => undefined);
    // Low CPU priority: the user's command, which runs now, goes first on a busy machine.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 10);
      } catch {
        // not allowed here: it runs at normal priority
      }
    }
    child.unref();
    closeSync(fd);
  } catch (err) {
    // The user's command goes on: a pool that is not refilled only makes the next new env slower.
    ctx.report.verbose(`could not start the pool's refill: ${err instanceof Error ? err.message : String(err)}`);
  }
}
