/**
 * `spoon forward NAME SPEC...`: ad-hoc local forwards over their own ssh
 * connection, held until Ctrl-C. Each running forward leaves a record (pid and
 * ports) so `spoon ports` can show it; records of dead processes are ignored.
 */
import { createServer } from 'node:net';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwardSpec } from '../config/schema.js';
import { RuntimeError } from '../errors.js';
import { forwardArgs } from '../ssh/args.js';
import { runAttached } from '../ssh/spawn.js';
import { writeAtomic } from '../state/files.js';
import { connect } from './connect.js';
import type { Context } from './context.js';
import type { EnvPlan } from './plan.js';

export interface ActiveForward {
  pid: number;
  localPort: number;
  remotePort: number;
  bindAddress: string;
}

export async function holdForwards(ctx: Context, name: string, plan: EnvPlan, forwards: ForwardSpec[]): Promise<number> {
  for (const f of forwards) await assertFree(f);
  const conn = await connect(ctx, name, { plan, explicitSettings: false });
  if (conn.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so it cannot forward ports`, { hint: 'publish the port instead (ports / --publish)' });
  const record = join(ctx.paths.forwardsDir(name), `${ctx.proc.pid}.json`);
  writeAtomic(record, JSON.stringify(forwards.map((f) => ({ pid: ctx.proc.pid, ...f }))));
  const cleanup = () => rmSync(record, { force: true });
  ctx.proc.once('exit', cleanup);
  try {
    for (const f of forwards) ctx.report.info(`forwarding ${f.bindAddress}:${f.localPort} -> ${name}:${f.remotePort} (Ctrl-C to stop)`);
    const status = await runAttached(forwardArgs(conn.target, forwards), (l) => ctx.report.debug(l));
    // Ctrl-C ends ssh with a signal: that is how a forward is meant to stop.
    return status === 130 || status === 255 ? 0 : status;
  } finally {
    ctx.proc.off('exit', cleanup);
    cleanup();
  }
}

export function activeForwards(ctx: Context, name: string): ActiveForward[] {
  const dir = ctx.paths.forwardsDir(name);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ActiveForward[] = [];
  for (const file of files) {
    try {
      const entries = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ActiveForward[];
      if (entries[0] && ctx.proc.alive(entries[0].pid)) out.push(...entries);
      else rmSync(join(dir, file), { force: true });
    } catch {
      rmSync(join(dir, file), { force: true });
    }
  }
  return out;
}

/** A clear error now, rather than ssh's after the connection is made. */
function assertFree(f: ForwardSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () =>
      reject(new RuntimeError(`cannot forward: local port ${f.bindAddress}:${f.localPort} is already in use`, { hint: 'pick another local port: LOCAL:REMOTE, e.g. 18080:80' })),
    );
    probe.listen(f.localPort, f.bindAddress, () => probe.close(() => resolve()));
  });
}
