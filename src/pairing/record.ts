/**
 * `spoon record`: the env's shared session, as a read-only client sees it, written as
 * an asciinema v2 recording until stopped, with a marker for every join, leave, share,
 * role change, unshare and expiry of the audit log while it runs.
 *
 * By default the recording is written in the env user's home (`~/recordings/`), which
 * is the home volume and so survives `destroy`: each line is streamed as it happens to
 * `cat` in the env over spoon's ssh connection, rather than kept on this host and
 * copied in at the end, so a recording cut short (Ctrl-C, this host's crash or lost
 * network) is there and valid up to its last line. That ssh runs in its own process
 * group: a Ctrl-C at the terminal reaches only spoon, which writes the last lines and
 * then ends it. `--out FILE` writes a local file instead.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Context } from '../core/context.js';
import { connect } from '../core/connect.js';
import { findEnv } from '../core/find-env.js';
import type { EnvPlan } from '../core/plan.js';
import { callerIdentity } from '../core/client-keys.js';
import { DEFAULT_TERM, runEngineCaptured } from '../core/engine-session.js';
import { LABEL } from '../core/labels.js';
import { NoSuchEnvError, RuntimeError, UsageError, describeCause } from '../errors.js';
import { sessionArgs, shellQuote, type SshTarget } from '../ssh/args.js';
import { exitStatusFor, spawnPipedSsh } from '../ssh/spawn.js';
import { AUDIT_LOG, RECORDING_SUFFIX } from './env-helper.js';
import { Utf8Splitter, eventLine, headerLine, markerLabel } from './cast.js';
import { openViewer, type Viewer } from './viewer.js';

export interface RecordRequest {
  /** `--out`: a local file (made new, 0600); undefined: `~/recordings/` in the env. */
  out: string | undefined;
  /** Aborted when the user stops the recording (Ctrl-C). */
  stop: AbortSignal;
  /** Told where the recording goes, once it has started. */
  started?: (where: RecordingPlace) => void;
}

export type RecordingPlace =
  /** `path` is relative to the env user's home; `ref` is what `spoon replay` takes. */
  | { kind: 'env'; name: string; path: string; ref: string }
  | { kind: 'local'; path: string; ref: string };

export interface RecordResult {
  place: RecordingPlace;
  /** How long it ran, in seconds. */
  seconds: number;
  markers: number;
  /** `stopped`: by the user; `ended`: the session (or the env) went away first. */
  end: 'stopped' | 'ended';
}

/** Where `record` puts a recording in the env, relative to the env user's home. */
export const RECORDINGS_DIR = 'recordings';

/** A sink for the recording's lines; `finish` returns once all of them are stored. */
interface Sink {
  place: RecordingPlace;
  write(line: string): void;
  finish(): Promise<void>;
  /** Something went wrong underneath (the env's cat died): the recording cannot go on. */
  failed: Promise<Error>;
}

export async function record(ctx: Context, name: string, plan: EnvPlan, req: RecordRequest): Promise<RecordResult> {
  // A bad --out is said before anything is done in the env.
  const local = req.out === undefined ? undefined : openLocal(req.out);
  let started = false;
  try {
    const engine = await ctx.engine();
    if (!(await findEnv(engine, name, plan.options.prefix))) throw new NoSuchEnvError(name);
    const conn = await connect(ctx, name, { plan, explicitSettings: false });
    if (conn.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so it cannot be recorded`, { hint: "use an image with openssh-server and tmux 3.3+, like spoon's default" });
    return await run(ctx, name, plan.options.prefix, conn.target, local, req, () => (started = true));
  } catch (err) {
    if (local) {
      await local.finish();
      // Nothing was recorded: leave no empty file behind.
      if (!started) rmSync(local.place.path, { force: true });
    }
    throw err;
  }
}

async function run(ctx: Context, name: string, prefix: string, target: SshTarget, local: Sink | undefined, req: RecordRequest, onStart: () => void): Promise<RecordResult> {
  const who = `${callerIdentity(ctx.env)}${RECORDING_SUFFIX}`;
  let sink: Sink | undefined;
  let start = performance.now();
  let done = false;
  let markers = 0;
  const now = () => (performance.now() - start) / 1000;
  const early: string[] = [];
  const mark = (label: string) => {
    if (done) return;
    markers++;
    if (sink) sink.write(eventLine(now(), 'm', label));
    else early.push(label);
  };

  // The audit log is followed from before the viewer attaches, so no join is missed.
  const log = followAuditLog(ctx, target, (entry) => {
    if (entry.who !== who) mark(markerLabel(entry));
  });
  let viewer: Viewer;
  try {
    viewer = await openViewer(ctx, name, { who, prefix });
  } catch (err) {
    log.stop();
    throw err;
  }
  try {
    // The viewer's output waits (a paused stream) until the recording has somewhere to go.
    sink = local ?? (await envSink(ctx, name, target));
  } catch (err) {
    viewer.close();
    log.stop();
    throw err;
  }
  start = performance.now();
  sink.write(headerLine({ version: 2, width: viewer.cols, height: viewer.rows, timestamp: Math.floor(Date.now() / 1000), title: `spoon ${name}`, env: { TERM: DEFAULT_TERM } }));
  for (const label of early.splice(0)) sink.write(eventLine(0, 'm', label));
  onStart();
  req.started?.(sink.place);

  const out = sink;
  const text = new Utf8Splitter();
  const output = (chunk: Buffer) => {
    if (done) return;
    const data = text.push(chunk);
    if (data) out.write(eventLine(now(), 'o', data));
  };
  viewer.output.on('data', output);

  const stopped = new Promise<'stopped'>((resolve) => {
    if (req.stop.aborted) resolve('stopped');
    req.stop.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  const ended = viewer.closed.then(() => 'ended' as const);
  const outcome = await Promise.race([stopped, ended, out.failed]);

  viewer.close();
  // What the client drew before it went is part of the recording.
  await Promise.race([viewer.closed, delay(2000)]);
  const rest = text.flush();
  if (rest) out.write(eventLine(now(), 'o', rest));
  const seconds = now();
  done = true;
  viewer.output.off('data', output);
  log.stop();
  await out.finish();
  if (outcome instanceof Error) throw outcome;
  return { place: out.place, seconds, markers, end: outcome };
}

function openLocal(path: string): Sink {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`--out: ${path} already exists`, { hint: 'name a new file; spoon does not overwrite recordings' });
    if (code === 'ENOENT') throw new UsageError(`--out: the folder ${dirname(path)} does not exist`);
    throw new UsageError(`--out: cannot write ${path}: ${describeCause(err)}`);
  }
  let open = true;
  return {
    place: { kind: 'local', path, ref: path },
    // Written at once, line by line: a recording cut short is valid up to its last line.
    write: (line) => {
      if (open) writeSync(fd, line);
    },
    finish: async () => {
      if (open) closeSync(fd);
      open = false;
    },
    failed: new Promise<Error>(() => undefined),
  };
}

/**
 * `~/recordings/NAME-YYYYMMDD-HHMMSS.cast` in the env (`-2`, `-3`, … when taken), written
 * by `cat` as the env user, 0600. The env prints the name it chose before anything is written.
 */
const WRITE_IN_HOME = `umask 077
cd || exit 1
mkdir -p ${RECORDINGS_DIR} || exit 1
f=${RECORDINGS_DIR}/$1.cast
n=1
while [ -e "$f" ]; do n=$((n+1)); f=${RECORDINGS_DIR}/$1-$n.cast; done
: > "$f" || exit 1
printf '%s\\n' "$f"
exec cat >> "$f"`;

async function envSink(ctx: Context, name: string, target: SshTarget): Promise<Sink> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.\d+Z$/, '');
  const command = shellQuote(['sh', '-c', WRITE_IN_HOME, 'sh', `${name}-${stamp}`]);
  const child = spawnPipedSsh(sessionArgs(target, { tty: false, useMaster: true, forwards: [], forwardAgent: false, command }), (l) => ctx.report.debug(l), { ownGroup: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(255));
    child.on('exit', (code, signal) => resolve(code ?? exitStatusFor(signal)));
  });
  // Writes after cat has gone would fail with EPIPE; its status says why.
  child.stdin.on('error', () => undefined);
  const path = await firstLine(child, exited);
  if (path === undefined) {
    const code = await exited;
    throw new RuntimeError(`cannot write a recording in ${name}'s home: ${stderr.trim().split('\n').pop() || `exit ${code}`}`);
  }
  let finishing = false;
  return {
    place: { kind: 'env', name, path, ref: `${name}:${path}` },
    write: (line) => {
      if (!finishing) child.stdin.write(line);
    },
    finish: async () => {
      finishing = true;
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new RuntimeError(`the recording in ${name} (~/${path}) may be incomplete: writing it ended with status ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
    },
    failed: exited.then(
      (code) =>
        finishing
          ? new Promise<Error>(() => undefined)
          : new RuntimeError(`the recording in ${name} (~/${path}) stopped: writing it ended with status ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`),
    ),
  };
}

/** The first line the child prints, or undefined when it exits first. */
function firstLine(child: ChildProcessWithoutNullStreams, exited: Promise<number>): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        child.stdout.off('data', onData);
        resolve(out.slice(0, nl));
      }
    };
    child.stdout.on('data', onData);
    void exited.then(() => resolve(undefined));
  });
}

interface AuditLine {
  time: string;
  event: string;
  who: string;
  kind: string;
  detail: string;
}

/**
 * Calls `onEntry` for every line added to the env's audit log from now on (tail -F over
 * ssh: written by spoon and by the env's tmux hooks, it is the one place joins, leaves and
 * role changes are known). Its line count is taken in the same command, so a line written
 * while tail starts is not lost.
 */
function followAuditLog(ctx: Context, target: SshTarget, onEntry: (e: AuditLine) => void): { stop(): void } {
  const script = 'f="$HOME/$1"; n=$(cat "$f" 2>/dev/null | wc -l); exec tail -n +$((n + 1)) -F "$f" 2>/dev/null';
  const command = shellQuote(['sh', '-c', script, 'sh', AUDIT_LOG]);
  const child = spawnPipedSsh(sessionArgs(target, { tty: false, useMaster: true, forwards: [], forwardAgent: false, command }), (l) => ctx.report.debug(l));
  child.on('error', () => undefined);
  child.stdin.end();
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [time = '', event = '', who = '', kind = '', detail = ''] = line.split('\t');
      if (event) onEntry({ time, event, who, kind, detail });
    }
  });
  return {
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/**
 * A recording in an env (`NAME:PATH`, PATH relative to the env user's home), read as
 * that user through the engine. The env must exist; a stopped one is started.
 */
export async function readEnvRecording(ctx: Context, name: string, plan: EnvPlan, path: string): Promise<string> {
  const engine = await ctx.engine();
  if (!(await findEnv(engine, name, plan.options.prefix))) throw new NoSuchEnvError(name);
  await connect(ctx, name, { plan, explicitSettings: false });
  const container = await findEnv(engine, name, plan.options.prefix);
  if (!container) throw new NoSuchEnvError(name);
  const user = container.labels[LABEL.user];
  const r = await runEngineCaptured(engine, container.id, ['sh', '-c', 'cd && exec cat -- "$1"', 'sh', path], user ? { user } : {});
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? '';
    throw new UsageError(`${name}:${path}: ${/no such file/i.test(why) ? 'no such file in the env' : why.replace(/^cat: .*?: /, '') || 'cannot be read'}`, {
      hint: `the path is relative to the env user's home; list the recordings with: spoon exec ${name} -- ls ${RECORDINGS_DIR}`,
    });
  }
  return r.stdout;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
