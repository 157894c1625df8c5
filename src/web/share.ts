/**
 * The env side of `spoon share NAME --web` and `spoon unshare NAME web`. A serving
 * process leaves a record (its pid) in the env's state folder and serves while the record
 * is there; unshare removes the records, and detaches every web viewer's tmux client in
 * the env, which also ends the views served by other accounts or machines.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { runEngineCaptured } from '../core/engine-session.js';
import { findEnv } from '../core/find-env.js';
import { LABEL } from '../core/labels.js';
import type { EnvPlan } from '../core/plan.js';
import { NoSuchEnvError, RuntimeError } from '../errors.js';
import { HELPER } from '../pairing/env-helper.js';
import { attachedNow } from '../pairing/guests.js';
import { writeAtomic } from '../state/files.js';

/**
 * Makes NAME ready to be watched, as `share` does for a guest: created or started if
 * needed, and its shared session made if nobody has started it yet.
 */
export async function prepareWebShare(ctx: Context, name: string, plan: EnvPlan): Promise<void> {
  const { connect } = await import('../core/connect.js');
  const conn = await connect(ctx, name, { plan, explicitSettings: false });
  if (conn.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so it cannot be watched`, { hint: "use an image with openssh-server and tmux 3.3+, like spoon's default" });
  const engine = await ctx.engine();
  const container = await findEnv(engine, name, plan.options.prefix);
  if (!container) throw new NoSuchEnvError(name);
  if (!(await engine.pathExists(container.id, HELPER))) {
    throw new RuntimeError(`${name} was made by an older spoon, without the pairing helper a viewer needs`, { hint: 'recreate it when nobody is working in it (spoon destroy, then spoon up; the home volume is kept)' });
  }
  const made = await runEngineCaptured(engine, container.id, [HELPER, 'grant', plan.options.session], { user: conn.target.user });
  if (made.code !== 0) throw new RuntimeError(`could not start the tmux session of ${name}: ${made.stderr.trim().split('\n').pop() ?? ''}`);
}

function recordDir(ctx: Context, name: string): string {
  return join(ctx.paths.envDir(name), 'web');
}

/** Marks this process as serving NAME's web view; the returned check is false once `unshare NAME web` ran. */
export function recordWebShare(ctx: Context, name: string, url: string): { stillShared: () => boolean; remove: () => void } {
  const file = join(recordDir(ctx, name), `${process.pid}.json`);
  // The URL without its token: the record says what is served, not how to get in.
  writeAtomic(file, JSON.stringify({ pid: process.pid, url: url.replace(/\/[^/]+\/$/, '/'), startedAt: new Date().toISOString() }) + '\n');
  return { stillShared: () => existsSync(file), remove: () => rmSync(file, { force: true }) };
}

/** `spoon unshare NAME web`: every serving process here stops, every web viewer in the env is detached. */
export async function endWebShare(ctx: Context, name: string, plan: EnvPlan): Promise<{ servers: number; viewers: number }> {
  let servers = 0;
  const dir = recordDir(ctx, name);
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    if (!file.endsWith('.json')) continue;
    if (alive(Number(file.slice(0, -5)))) servers++;
    rmSync(join(dir, file), { force: true });
  }
  const engine = await ctx.engine();
  const container = await findEnv(engine, name, plan.options.prefix);
  if (!container) {
    if (servers > 0) return { servers, viewers: 0 };
    throw new NoSuchEnvError(name);
  }
  const owner = container.labels[LABEL.user];
  const viewers = (await attachedNow(engine, container)).filter((c) => c.role === 'viewer');
  for (const v of viewers) await runEngineCaptured(engine, container.id, ['tmux', '-S', '/run/spoon/tmux.sock', 'detach-client', '-t', v.tty], owner ? { user: owner } : {});
  return { servers, viewers: viewers.length };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
