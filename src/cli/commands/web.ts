/** `spoon share NAME --web`, `spoon unshare NAME web`, `spoon ui` and `spoon replay FILE --web`: watching in a browser. */
import type { Context } from '../../core/context.js';
import { timeline, type Cast, type PlaybackOptions } from '../../pairing/cast.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { parseDuration } from '../../pairing/guests.js';
import { UsageError } from '../../errors.js';
import { resolveSettings } from '../settings.js';

async function planFor(ctx: Context, name: string | undefined, flags: Record<string, unknown>) {
  if (name !== undefined) validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return planEnv(settings.options, settings.devcontainer);
}

function portFlag(flags: Record<string, unknown>): number {
  if (flags.port === undefined) return 0;
  const text = String(flags.port);
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`--port: invalid port '${text}'`, { hint: 'a port from 1 to 65535, or leave it out for a free one' });
  return port;
}

export async function shareWebCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  for (const [key, flag] of [['key', '--key'], ['as', '--as'], ['readOnly', '--read-only'], ['readWrite', '--read-write']] as const) {
    if (flags[key] !== undefined && flags[key] !== false) throw new UsageError(`${flag}: not with --web (a web view is always read-only, and needs no key)`, { hint: `spoon share ${name} --web [--for 2h] [--port P]` });
  }
  const forSeconds = typeof flags.for === 'string' ? parseDuration(flags.for) : undefined;
  const port = portFlag(flags);
  const plan = await planFor(ctx, name, flags);
  const { prepareWebShare, recordWebShare } = await import('../../web/share.js');
  await prepareWebShare(ctx, name, plan);
  const [{ startWebServer }, { openViewer }] = await Promise.all([import('../../web/server.js'), import('../../pairing/viewer.js')]);
  const server = await startWebServer({
    listen: plan.options.listen,
    port,
    only: name,
    openViewer: (env, who) => openViewer(ctx, env, { who, prefix: plan.options.prefix, followResize: true }),
    onEvent: (message) => ctx.report.info(message),
  });
  const record = recordWebShare(ctx, name, server.url);
  const expiresAt = forSeconds === undefined ? null : new Date(Date.now() + forSeconds * 1000).toISOString();
  warnIfExposed(ctx, plan.options.listen);
  ctx.report.info(`serving a read-only live view of ${name}${expiresAt ? ` until ${expiresAt.replace(/\.\d+Z$/, 'Z')}` : ''}: anyone with this URL can watch; Ctrl-C or \`spoon unshare ${name} web\` ends it`);
  process.stdout.write(flags.json ? `${JSON.stringify({ url: server.url, name, expiresAt })}\n` : `${server.url}\n`);
  try {
    const reason = await serveUntil(ctx, name, forSeconds, record.stillShared);
    await server.close(reason);
    ctx.report.info(`the web view of ${name} ended: ${reason}`);
  } finally {
    record.remove();
  }
  return 0;
}

export async function unshareWebCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  const plan = await planFor(ctx, name, flags);
  const { endWebShare } = await import('../../web/share.js');
  const ended = await endWebShare(ctx, name, plan);
  ctx.report.info(
    ended.servers + ended.viewers === 0
      ? `no web view of ${name} was running`
      : `ended the web view of ${name}: ${ended.servers} serving process${ended.servers === 1 ? '' : 'es'} here, ${ended.viewers} viewer${ended.viewers === 1 ? '' : 's'} detached`,
  );
  return 0;
}

export async function uiCommand(ctx: Context, flags: Record<string, unknown>): Promise<number> {
  const forSeconds = typeof flags.for === 'string' ? parseDuration(flags.for) : undefined;
  const port = portFlag(flags);
  const plan = await planFor(ctx, undefined, flags);
  const [{ startWebServer }, { openViewer }, { dashboardEnvs }] = await Promise.all([import('../../web/server.js'), import('../../pairing/viewer.js'), import('../../web/dashboard.js')]);
  const server = await startWebServer({
    listen: plan.options.listen,
    port,
    dashboard: () => dashboardEnvs(ctx),
    openViewer: (env, who) => openViewer(ctx, env, { who, prefix: plan.options.prefix, followResize: true }),
    onEvent: (message) => ctx.report.info(message),
  });
  warnIfExposed(ctx, plan.options.listen);
  ctx.report.info('serving the read-only dashboard: anyone with this URL can see every env and watch it live; Ctrl-C ends it');
  process.stdout.write(flags.json ? `${JSON.stringify({ url: server.url })}\n` : `${server.url}\n`);
  const reason = await serveUntil(ctx, undefined, forSeconds, () => true);
  await server.close(reason);
  return 0;
}

/** --for and --port of a serving command, checked. */
export function serveFlags(flags: Record<string, unknown>): { forSeconds: number | undefined; port: number } {
  return { forSeconds: typeof flags.for === 'string' ? parseDuration(flags.for) : undefined, port: portFlag(flags) };
}

/** `spoon replay FILE --web`: serves the recording (already read and checked) to browsers until Ctrl-C or --for. */
export async function replayWebCommand(ctx: Context, file: string, cast: Cast, timing: PlaybackOptions, flags: Record<string, unknown>): Promise<number> {
  const { forSeconds, port } = serveFlags(flags);
  const plan = await planFor(ctx, undefined, flags);
  const events = timeline(cast.events, timing);
  const { startWebServer } = await import('../../web/server.js');
  const server = await startWebServer({
    listen: plan.options.listen,
    port,
    replay: { title: cast.header.title ?? file, cols: cast.header.width, rows: cast.header.height, events },
  });
  warnIfExposed(ctx, plan.options.listen);
  const seconds = Math.round((events[events.length - 1]?.at ?? 0) / 1000);
  const markers = events.filter((e) => e.code === 'm').length;
  ctx.report.info(`serving a replay of ${file} (${cast.header.width}x${cast.header.height}, ${seconds}s, ${markers === 1 ? '1 marker' : `${markers} markers`}): anyone with this URL can watch it; Ctrl-C ends it`);
  process.stdout.write(flags.json ? `${JSON.stringify({ url: server.url, file })}\n` : `${server.url}\n`);
  const reason = await serveUntil(ctx, undefined, forSeconds, () => true);
  await server.close(reason);
  return 0;
}

function warnIfExposed(ctx: Context, listen: string): void {
  if (listen.startsWith('127.') || listen === '::1') return;
  ctx.report.warn(`serving on ${listen}: anyone who can reach this machine and has the URL (its token) can watch`, 'the default listen address 127.0.0.1 keeps it to this machine');
}

/** Resolves with why serving ends: Ctrl-C (or another ending signal), the --for time, or unshare. */
function serveUntil(ctx: Context, name: string | undefined, forSeconds: number | undefined, stillShared: () => boolean): Promise<string> {
  return new Promise((resolve) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const timers: NodeJS.Timeout[] = [];
    const done = (reason: string) => {
      for (const s of signals) process.off(s, onSignal);
      for (const t of timers) clearTimeout(t);
      resolve(reason);
    };
    const onSignal = () => done('the owner stopped sharing');
    for (const s of signals) process.on(s, onSignal);
    if (forSeconds !== undefined) timers.push(setTimeout(() => done('the time given with --for is up'), forSeconds * 1000));
    // unshare removes the record; checking twice a second costs a stat.
    const poll = setInterval(() => {
      if (!stillShared()) {
        clearInterval(poll);
        done(`the owner ended it (spoon unshare ${name ?? ''} web)`);
      }
    }, 500);
    timers.push(poll);
    ctx.report.debug(`serving until ${forSeconds === undefined ? 'stopped' : `${forSeconds} s from now`}`);
  });
}
