/** `spoon record NAME [--out FILE]` and `spoon replay FILE [--web]`: asciinema v2 recordings of the shared session. */
import { existsSync, readFileSync } from 'node:fs';
import type { Context } from '../../core/context.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { UsageError, describeCause } from '../../errors.js';
import { parseCast, playback, type PlaybackStep } from '../../pairing/cast.js';
import { resolveSettings } from '../settings.js';

async function planFor(ctx: Context, name: string, flags: Record<string, unknown>) {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return planEnv(settings.options, settings.devcontainer);
}

export async function recordCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  const plan = await planFor(ctx, name, flags);
  const { record } = await import('../../pairing/record.js');
  const stop = new AbortController();
  let signals = 0;
  // The first Ctrl-C ends the recording and writes its last lines; a second one quits at once.
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    stop.abort();
  };
  const handled = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of handled) process.on(sig, onSignal);
  try {
    const result = await record(ctx, name, plan, {
      out: typeof flags.out === 'string' ? flags.out : undefined,
      stop: stop.signal,
      started: (place) =>
        ctx.report.info(`recording ${name} to ${place.kind === 'env' ? `~/${place.path} in the env (its home volume)` : place.path}; Ctrl-C to stop`),
    });
    const how = result.end === 'stopped' ? 'stopped' : 'the session ended';
    const markers = result.markers === 1 ? '1 marker' : `${result.markers} markers`;
    ctx.report.info(`${how}: recorded ${Math.round(result.seconds)}s of ${name} (${markers}); play it with: spoon replay ${result.place.ref}`);
    process.stdout.write(`${result.place.ref}\n`);
    return 0;
  } finally {
    for (const sig of handled) process.off(sig, onSignal);
  }
}

export async function replayCommand(ctx: Context, file: string, flags: Record<string, unknown>): Promise<number> {
  const speed = positive('--speed', flags.speed, 1);
  const idleFlag = flags.idleLimit === undefined ? undefined : positive('--idle-limit', flags.idleLimit, 0);
  for (const [key, flag] of [['port', '--port'], ['for', '--for'], ['json', '--json']] as const) {
    if (!flags.web && flags[key] !== undefined && flags[key] !== false) throw new UsageError(`${flag}: only with --web`, { hint: `spoon replay ${file} --web${key === 'json' ? ' --json' : ` ${flag} ...`}` });
  }
  const web = flags.web ? await import('./web.js') : undefined;
  // Bad flags are told before the recording is fetched; a bad recording before anything is served.
  web?.serveFlags(flags);
  const cast = parseCast(await readRecording(ctx, file, flags), file);
  const idleLimit = idleFlag ?? cast.header.idle_time_limit ?? undefined;
  if (web) return web.replayWebCommand(ctx, file, cast, { speed, idleLimit }, flags);
  const out = process.stdout;
  if (out.isTTY && (out.columns < cast.header.width || out.rows < cast.header.height)) {
    ctx.report.warn(`${file} was recorded at ${cast.header.width}x${cast.header.height}, larger than this terminal (${out.columns}x${out.rows}): it may look garbled`, 'make the terminal larger');
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    const steps = playback(cast.events, { speed, idleLimit });
    const whole = await play(steps, stop.signal);
    // A recording cut short can leave the terminal as the session's client had it (the
    // alternate screen, a hidden cursor, mouse reporting): put it back.
    if (out.isTTY) out.write(`${TERMINAL_RESET}${leftInAlternateScreen(steps) ? '\u001b[?1049l' : ''}\r\n`);
    return whole ? 0 : 130;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

const TERMINAL_RESET = '\u001b[0m\u001b[?25h\u001b[?1000l\u001b[?1002l\u001b[?1003l\u001b[?1006l\u001b[?2004l\u001b[?1l\u001b>';

/** Leaving the alternate screen also restores a saved cursor, so only when the recording entered it last. */
function leftInAlternateScreen(steps: PlaybackStep[]): boolean {
  let inside = false;
  for (const s of steps) {
    for (const sequence of s.data.split('\u001b').slice(1)) {
      const m = /^\[\?(?:1049|1047|47)([hl])/.exec(sequence);
      if (m) inside = m[1] === 'h';
    }
  }
  return inside;
}

/** A local file, else NAME:PATH in an env (PATH relative to its user's home). */
async function readRecording(ctx: Context, file: string, flags: Record<string, unknown>): Promise<string> {
  const inEnv = /^([^/:]+):(.+)$/.exec(file);
  if (!existsSync(file) && inEnv) {
    const [, name = '', path = ''] = inEnv;
    const plan = await planFor(ctx, name, flags);
    const { readEnvRecording } = await import('../../pairing/record.js');
    return readEnvRecording(ctx, name, plan, path);
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read: ${describeCause(err)}`, {
      hint: 'a .cast file here, or NAME:PATH for one in env NAME (PATH relative to its home, e.g. demo:recordings/demo-20261203-101500.cast)',
    });
  }
}

function positive(flag: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag}: invalid value '${String(value)}'`, { hint: 'a number above 0, e.g. 2 or 0.5' });
  }
  return n;
}

/** Writes each step at its time; false when stopped first. */
async function play(steps: PlaybackStep[], stop: AbortSignal): Promise<boolean> {
  const t0 = performance.now();
  let i = 0;
  while (i < steps.length) {
    const wait = (steps[i]?.at ?? 0) - (performance.now() - t0);
    if (wait > 0) await sleep(wait, stop);
    if (stop.aborted) return false;
    // Everything already due goes out in one write: a slow terminal falls behind, not the clock.
    const due = performance.now() - t0;
    let chunk = '';
    while (i < steps.length && (steps[i]?.at ?? 0) <= due) chunk += steps[i++]?.data ?? '';
    if (chunk && !process.stdout.write(chunk)) await drained(stop);
  }
  return true;
}

/** stdout took the last write; also when it went away (a closed pipe) or the replay was stopped. */
function drained(stop: AbortSignal): Promise<void> {
  const out = process.stdout;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done).off('close', done).off('error', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done).once('close', done).once('error', done);
    stop.addEventListener('abort', done, { once: true });
  });
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done, { once: true });
  });
}
