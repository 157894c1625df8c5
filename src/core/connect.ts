/**
 * Getting an ssh connection to an env. The fast path uses only cached state and
 * an ssh ControlMaster, without loading the engine client; if the cache is stale
 * (stopped, recreated, moved) the connection fails safely against the pinned host
 * key and spoon asks the engine instead.
 */
import { masterAlive, runAttached, runCaptured, startMaster } from '../ssh/spawn.js';
import { masterControlArgs, masterArgs, sessionArgs, type Forward, type SshTarget } from '../ssh/args.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { forgetEnvState, readEnvState, type EnvState } from '../state/env-state.js';
import { ensureDir } from '../state/files.js';
import { dirname } from 'node:path';
import { CommandFailedError, RuntimeError } from '../errors.js';
import type { Context } from './context.js';
import { ensureEnv, type ReadyEnv } from './ensure-env.js';
import { configHash } from '../config/layers.js';
import type { EnvOptions } from '../config/schema.js';
import { RUN_ON_CREATE_DONE } from './provision.js';

export interface ConnectRequest {
  options: EnvOptions;
  /** A creation setting was configured (file, env var, flag): worth comparing with the env's. */
  explicitSettings: boolean;
}

export function sshTarget(ctx: Context, name: string, state: EnvState): SshTarget {
  return {
    host: state.sshHost,
    port: state.sshPort,
    user: state.user,
    alias: hostAlias(name),
    identityFile: ctx.paths.clientKey,
    knownHostsFile: ctx.paths.knownHosts(name),
    controlPath: ctx.paths.controlPath(name, state.containerId),
  };
}

/** Returns a target whose ControlMaster is up, creating/starting the env when needed. */
export async function connect(ctx: Context, name: string, req: ConnectRequest): Promise<SshTarget> {
  const cached = readEnvState(ctx.paths.envState(name));
  // The cache serves only the settings it was written under; anything else asks the engine.
  if (cached && cached.engineUrl === ctx.endpoint.url && (!req.explicitSettings || cached.configHash === configHash(req.options))) {
    const target = sshTarget(ctx, name, cached);
    const failure = await ensureMaster(ctx, name, target);
    if (failure === undefined) {
      ctx.timeline.mark('connect (cached)');
      return target;
    }
    ctx.report.verbose(`cached connection to ${name} failed (${failure.split('\n')[0]}); asking the engine`);
  }

  const ready = await ensureEnv(ctx, name, req.options, { explicitSettings: req.explicitSettings });
  const target = sshTarget(ctx, name, ready.state);
  const failure = await ensureMaster(ctx, name, target);
  if (failure !== undefined) throw sshFailure(ctx, name, failure);
  ctx.timeline.mark('ssh-connect');
  if (req.options.run_on_create.length) await runOnCreate(ctx, name, target, ready, req.options.run_on_create);
  return target;
}

/**
 * run_on_create: once, in order, as the login user, right after the env is created.
 * A failing command stops there with its status and leaves the env as it is, to be
 * inspected with `spoon exec`; later connects say that the setup did not finish.
 */
async function runOnCreate(ctx: Context, name: string, target: SshTarget, ready: ReadyEnv, commands: string[]): Promise<void> {
  const engine = await ctx.engine();
  if (!ready.created) {
    if (!(await engine.pathExists(ready.container.id, RUN_ON_CREATE_DONE))) {
      // No cache for an unfinished env: every connect comes this way and says so.
      forgetEnvState(ctx.paths.envState(name));
      ctx.report.warn(`run_on_create did not finish when ${name} was created`, `look around with \`spoon exec ${name} -- ...\`, or recreate it: spoon destroy ${name} && spoon up ${name}`);
    }
    return;
  }
  for (const [i, command] of commands.entries()) {
    ctx.report.info(`run_on_create ${i + 1}/${commands.length}: ${command}`);
    const status = await runSession(ctx, target, { command, tty: false, forwards: [], forwardAgent: false });
    if (status !== 0) {
      forgetEnvState(ctx.paths.envState(name));
      throw new CommandFailedError(`run_on_create command ${i + 1} (${command}) failed with exit status ${status}`, status, {
        hint: `${name} is left as it is: look around with \`spoon exec ${name} -- ...\``,
      });
    }
  }
  await engine.putFiles(ready.container.id, [], [{ path: RUN_ON_CREATE_DONE, content: new Date().toISOString() + '\n', mode: 0o644 }]);
  ctx.timeline.mark('run_on_create');
}

/** undefined when a master is up (already, or now); otherwise what ssh said. */
async function ensureMaster(ctx: Context, name: string, target: SshTarget): Promise<string | undefined> {
  if (await masterAlive(target.controlPath)) return undefined;
  ensureDir(dirname(target.controlPath));
  const result = await startMaster(masterArgs(target), target.controlPath, ctx.paths.sshLog(name), (l) => ctx.report.debug(l));
  return result.ok ? undefined : result.stderr || 'ssh failed without a message';
}

export interface SessionRequest {
  command: string;
  tty: boolean;
  forwards: Forward[];
  forwardAgent: boolean;
}

/** Runs one ssh session with the terminal handed over; resolves with the remote status. */
export function runSession(ctx: Context, target: SshTarget, s: SessionRequest): Promise<number> {
  // Forwards and the agent get their own connection, so they end with the session
  // instead of lingering in (or being refused by) the shared master.
  const useMaster = s.forwards.length === 0 && !s.forwardAgent;
  return runAttached(sessionArgs(target, { ...s, useMaster }), (l) => ctx.report.debug(l));
}

/** Closes the env's ControlMaster, if one is up (before stop, restart, destroy). */
export async function closeMaster(ctx: Context, name: string): Promise<void> {
  const cached = readEnvState(ctx.paths.envState(name));
  if (!cached) return;
  const target = sshTarget(ctx, name, cached);
  if (await masterAlive(target.controlPath)) await runCaptured(masterControlArgs(target, 'exit'), (l) => ctx.report.debug(l));
}

function sshFailure(ctx: Context, name: string, stderr: string): RuntimeError {
  if (/host key verification failed|remote host identification has changed|host key for .* has changed/i.test(stderr)) {
    return new RuntimeError(`the host key of ${name} does not match the key spoon pinned; refusing to connect`, {
      hint: `the pin is in ${ctx.paths.knownHosts(name)}. If you did not expect this, someone may be in the middle. To start over: spoon destroy ${name} (the home volume is kept)`,
    });
  }
  if (/permission denied/i.test(stderr)) {
    return new RuntimeError(`${name} refused spoon's key: ${firstLine(stderr)}`, {
      hint: `spoon's key is ${ctx.paths.clientKey}; recreate the env if it was made by another user: spoon destroy ${name} && spoon up ${name}`,
    });
  }
  return new RuntimeError(`cannot connect to ${name} over ssh: ${firstLine(stderr)}`, { hint: 'run with --debug to see the ssh command line' });
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() && !l.startsWith('@'))?.trim() ?? text.trim();
}
