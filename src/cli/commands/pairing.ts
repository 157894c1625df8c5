/** `spoon share`, `spoon unshare` and `spoon who`: pairing guests. */
import type { Context } from '../../core/context.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { share, unshare, who } from '../../pairing/guests.js';
import { printJson, printTable } from '../output.js';
import { resolveSettings } from '../settings.js';

async function planFor(ctx: Context, name: string, flags: Record<string, unknown>) {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return planEnv(settings.options, settings.devcontainer);
}

export async function shareCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  const plan = await planFor(ctx, name, flags);
  const result = await share(ctx, name, plan, { keyFile: String(flags.key), guest: typeof flags.as === 'string' ? flags.as : undefined, readOnly: flags.readOnly === true });
  if (result.host.startsWith('127.') || result.host === '::1') {
    ctx.report.warn(`${name} publishes ssh on ${result.host}, which only this machine can reach`, 'for guests elsewhere, recreate the env with `listen` set to an address they can reach (e.g. --listen 0.0.0.0)');
  }
  if (flags.json) {
    printJson(result);
    return 0;
  }
  ctx.report.info(`${result.readOnly ? 'read-only' : 'read-write'} guest ${result.guest} (unix user ${result.user}) may join ${name}; send them the command below.`);
  ctx.report.info(`They first add this line to their ~/.ssh/known_hosts (it pins the env's host key):\n${result.knownHosts}`);
  process.stdout.write(`${result.command}\n`);
  return 0;
}

export async function unshareCommand(ctx: Context, name: string, guest: string, flags: Record<string, unknown>): Promise<number> {
  await unshare(ctx, name, await planFor(ctx, name, flags), guest);
  ctx.report.info(`guest ${guest} can no longer reach ${name}, and was disconnected`);
  return 0;
}

export async function whoCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  const clients = await who(ctx, name, await planFor(ctx, name, flags));
  if (flags.json) {
    printJson(clients);
    return 0;
  }
  if (clients.length === 0) {
    process.stderr.write(`nobody is attached to ${name}\n`);
    return 0;
  }
  printTable(
    ['USER', 'ROLE', 'ACCESS', 'TTY'],
    clients.map((c) => [c.user, c.guest ? `guest ${c.guest}` : 'owner', c.readOnly ? 'read-only' : 'read-write', c.tty]),
  );
  return 0;
}
