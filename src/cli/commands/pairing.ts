/** `spoon share`, `spoon unshare` and `spoon who`: pairing with members and guests. */
import type { Context } from '../../core/context.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { auditLog, parseDuration, share, unshare, who, type Access, type Client } from '../../pairing/guests.js';
import { UsageError } from '../../errors.js';
import { printJson, printTable } from '../output.js';
import { resolveSettings } from '../settings.js';

async function planFor(ctx: Context, name: string, flags: Record<string, unknown>) {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return planEnv(settings.options, settings.devcontainer);
}

function accessFlag(flags: Record<string, unknown>): Access | undefined {
  if (flags.readOnly === true && flags.readWrite === true) throw new UsageError('--read-only and --read-write: choose one');
  return flags.readOnly === true ? 'ro' : flags.readWrite === true ? 'rw' : undefined;
}

export async function shareCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  if (flags.web) return (await import('./web.js')).shareWebCommand(ctx, name, flags);
  if (flags.port !== undefined) throw new UsageError('--port: only with --web', { hint: `spoon share ${name} --web --port 8080` });
  const access = accessFlag(flags);
  const forSeconds = typeof flags.for === 'string' ? parseDuration(flags.for) : undefined;
  const plan = await planFor(ctx, name, flags);
  const result = await share(ctx, name, plan, {
    keyFile: typeof flags.key === 'string' ? flags.key : undefined,
    guest: typeof flags.as === 'string' ? flags.as : undefined,
    access,
    forSeconds,
  });
  if (result.action !== 'role' && (result.host.startsWith('127.') || result.host === '::1')) {
    ctx.report.warn(`${name} publishes ssh on ${result.host}, which only this machine can reach`, 'for guests elsewhere, the env needs `listen` set to an address they can reach (e.g. --listen 0.0.0.0) when it is created');
  }
  if (flags.json) {
    printJson(result);
    return 0;
  }
  const role = result.readOnly ? 'read-only' : 'read-write';
  const until = result.expiresAt ? `, until ${result.expiresAt.replace(/\.\d+Z$/, 'Z')}` : '';
  if (!result.readOnly) {
    ctx.report.warn(`a read-write guest types into the session as the env's user (${result.owner}): they can do everything that user can, sudo included in spoon's default image`, 'to let them only watch: --read-only');
  }
  if (result.action === 'role') {
    ctx.report.info(`guest ${result.guest} is now ${role} in ${name}${until}; their attached clients changed at once`);
    return 0;
  }
  ctx.report.info(`${result.action === 'updated' ? 'updated ' : ''}${role} guest ${result.guest} (unix user ${result.user}) may join ${name}${until}; send them the command below.`);
  ctx.report.info(`They first add this line to their ~/.ssh/known_hosts (it pins the env's host key):\n${result.knownHosts}`);
  process.stdout.write(`${result.command}\n`);
  return 0;
}

export async function unshareCommand(ctx: Context, name: string, guest: string, flags: Record<string, unknown>): Promise<number> {
  if (guest === 'web') return (await import('./web.js')).unshareWebCommand(ctx, name, flags);
  await unshare(ctx, name, await planFor(ctx, name, flags), guest);
  ctx.report.info(`guest ${guest} can no longer reach ${name}, and was disconnected`);
  return 0;
}

export async function whoCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  const plan = await planFor(ctx, name, flags);
  if (flags.log) {
    const entries = await auditLog(ctx, name, plan);
    if (flags.json) printJson(entries);
    else if (entries.length === 0) process.stderr.write(`the audit log of ${name} is empty\n`);
    else printTable(['TIME (UTC)', 'EVENT', 'WHO', 'KIND', 'DETAIL'], entries.map((e) => [e.time, e.event, e.who, e.kind, e.detail]));
    return 0;
  }
  const clients = await who(ctx, name, plan);
  if (flags.json) {
    printJson(clients);
    return 0;
  }
  if (clients.length === 0) {
    process.stderr.write(`nobody is attached to ${name}\n`);
    return 0;
  }
  printTable(
    ['WHO', 'ROLE', 'ACCESS', 'TIME LEFT', 'TTY'],
    clients.map((c) => [c.person, c.role === 'viewer' ? 'web viewer' : c.role, c.readOnly ? 'read-only' : 'read-write', timeLeft(c), c.tty]),
  );
  return 0;
}

function timeLeft(c: Client): string {
  if (c.secondsLeft === null) return '-';
  const s = c.secondsLeft;
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m` : `${s}s`;
}
