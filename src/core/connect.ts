/**
 * Getting an ssh connection to an env. The fast path uses only cached state and
 * an ssh ControlMaster, without loading the engine client; if the cache is stale
 * (stopped, recreated, moved) the connection fails safely against the pinned host
 * key and spoon asks the engine instead.
 */
import { SSH_BINARY, masterAlive, runAttached, runCaptured, startMaster } from '../ssh/spawn.js';
import { masterControlArgs, masterArgs, sessionArgs, shellQuote, type Forward, type SshTarget } from '../ssh/args.js';
import { sshEngineArgv } from '../engine/endpoint.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { readEnvState, type EnvState } from '../state/env-state.js';
import { ensureDir } from '../state/files.js';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { RuntimeError } from '../errors.js';
import type { Context } from './context.js';
import { planHash, type EnvPlan } from './plan.js';
import type { ConfirmRecreate } from './heal.js';
import { SshdUnavailableError } from './wait-sshd.js';
import { withSessionEnv } from './session-env.js';

export interface ConnectRequest {
  plan: EnvPlan;
  /** How to ask before recreating a broken env (healing); undefined: nobody can be asked. */
  confirmRecreate?: ConfirmRecreate;
  /** A creation setting was configured (file, env var, flag): worth comparing with the env's. */
  explicitSettings: boolean;
  /**
   * `spoon up`/`spoon NAME`: devcontainer.json's initializeCommand runs every time, as on
   * `devcontainer up`; otherwise (`exec`, ...) only before this call creates or starts the env.
   */
  initializeAlways?: boolean;
  /** A terminal attaches next: postAttachCommand runs, and what comes after waitFor may go on in the background. */
  attach?: boolean;
  /** Starts refilling the warm pool for this plan without waiting for it (the CLI runs a detached `spoon pool fill`). */
  refillPool?: (plan: EnvPlan) => void;
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
    // With an ssh engine the env's sshd listens on that host: go there through ssh.
    proxyCommand: ctx.endpoint.kind === 'ssh' ? shellQuote([SSH_BINARY, ...sshEngineArgv(ctx.endpoint, { options: ['-W', '%h:%p'] })]) : undefined,
  };
}

/** How to reach a ready env: over ssh (a ControlMaster is up), or through the engine's exec. */
export type Connection = { kind: 'ssh'; target: SshTarget } | { kind: 'exec'; containerId: string; user: string | undefined; tmux: boolean };

/** Returns a connection to the env, creating/starting it when needed. */
export async function connect(ctx: Context, name: string, req: ConnectRequest): Promise<Connection> {
  const initialize = req.plan.devcontainer?.lifecycle.initialize.length ? (await import('./setup-commands.js')).runInitializeCommand : undefined;
  if (initialize && req.initializeAlways) await initialize(ctx, req.plan);
  const cached = readEnvState(ctx.paths.envState(name), (path) => ctx.report.warn(`${path} was damaged; spoon rebuilds it from the engine`));
  // The cache serves only the settings it was written under; anything else asks the engine.
  const usable = cached && cached.engineUrl === ctx.endpoint.url && (!req.explicitSettings || cached.configHash === planHash(req.plan));
  if (usable && !existsSync(ctx.paths.pausedMarker(name))) {
    const target = sshTarget(ctx, name, cached);
    const failure = await ensureMaster(ctx, name, target);
    if (failure === undefined) {
      ctx.timeline.mark('connect (cached)');
      const connection: Connection = { kind: 'ssh', target };
      if (req.attach && req.plan.devcontainer?.lifecycle.postAttach.length) {
        const { runAttachCommands } = await import('./setup-commands.js');
        await runAttachCommands(ctx, name, req.plan, setupRunner(ctx, connection));
      }
      return connection;
    }
    ctx.report.verbose(`cached connection to ${name} failed (${failure.split('\n')[0]}); asking the engine`);
  }

  let initialized = false;
  // Loaded only off the fast path: creating and provisioning is most of spoon's code.
  const { ensureEnv } = await import('./ensure-env.js');
  const attempt = async (plan: EnvPlan) => {
    // Once per spoon command, also when healing makes the env again.
    const beforeStart =
      initialize && !req.initializeAlways
        ? async () => {
            if (initialized) return;
            await initialize(ctx, plan);
            initialized = true;
          }
        : undefined;
    const ready = await ensureEnv(ctx, name, plan, { explicitSettings: req.explicitSettings, ...(beforeStart ? { beforeStart } : {}) });
    if (ready.access.kind !== 'ssh') {
      return { plan, ready, connection: { kind: 'exec', containerId: ready.container.id, user: ready.access.user, tmux: ready.access.tmux } as Connection };
    }
    const target = sshTarget(ctx, name, ready.access.state);
    // A claim from the warm pool started it beside the claim; when that failed, as usual.
    const early = ready.sshMaster ? await ready.sshMaster : 'none';
    let failure = early === undefined ? undefined : await ensureMaster(ctx, name, target, ctx.endpoint.kind === 'ssh');
    if (failure !== undefined && /permission denied/i.test(failure)) {
      // Our key is not (or no longer) in the env: authorize it through the engine, once.
      const { joinEnv } = await import('./join.js');
      await joinEnv(ctx, await ctx.engine(), ready.container, name);
      failure = await ensureMaster(ctx, name, target, ctx.endpoint.kind === 'ssh');
    }
    if (failure !== undefined) throw sshFailure(ctx, name, failure);
    ctx.timeline.mark('ssh-connect');
    return { plan, ready, connection: { kind: 'ssh', target } as Connection };
  };
  const { withHealing } = await import('./heal.js');
  const { plan, ready, connection } = await withHealing(ctx, name, req.plan, req.confirmRecreate, () => closeMaster(ctx, name), attempt);
  // Once the connection is up, so the refill's start does not compete with the handshake.
  if (ready.refillPool) req.refillPool?.(plan);
  const { runSetupCommands } = await import('./setup-commands.js');
  await runSetupCommands(ctx, name, plan, ready, setupRunner(ctx, connection), { attach: req.attach ?? false });
  return connection;
}

function setupRunner(ctx: Context, connection: Connection): (command: string) => Promise<number> {
  return (command) => runCommand(ctx, connection, { command, tty: false, forwards: [], forwardAgent: false });
}

/**
 * undefined when a master is up (already, or now); otherwise what ssh said. Through
 * an ssh engine the env's port cannot be probed from here, so a freshly started sshd
 * is given a few tries.
 */
export async function ensureMaster(ctx: Context, name: string, target: SshTarget, retry = false): Promise<string | undefined> {
  if (await masterAlive(target.controlPath)) return undefined;
  ensureDir(dirname(target.controlPath));
  const deadline = Date.now() + (retry ? 30_000 : 0);
  for (;;) {
    const result = await startMaster(masterArgs(target), target.controlPath, ctx.paths.sshLog(name), (l) => ctx.report.debug(l));
    if (result.ok) return undefined;
    const notYet = /connection refused|connection closed|kex_exchange_identification|connection reset|stdio forwarding failed/i.test(result.stderr);
    if (!notYet || Date.now() > deadline) return result.stderr || 'ssh failed without a message';
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface SessionRequest {
  command: string;
  tty: boolean;
  forwards: Forward[];
  forwardAgent: boolean;
  /** The command starts login shells itself (the attach): the user env probe is skipped, remoteEnv still applies. */
  login?: boolean;
}

/**
 * Runs one command line in the env with the terminal handed over; resolves with its
 * status. Through the engine there are no forwards or agent: those need sshd.
 */
export async function runCommand(ctx: Context, conn: Connection, request: SessionRequest): Promise<number> {
  // Every command line, over ssh or through the engine, reads the env's session environment first.
  const s = { ...request, command: withSessionEnv(request.command, !request.login) };
  if (conn.kind === 'ssh') return runSession(ctx, conn.target, s);
  if (s.forwards.length || s.forwardAgent) ctx.report.warn('port forwards and agent forwarding need sshd in the image; going on without them');
  const { runEngineSession, withTerm } = await import('./engine-session.js');
  const argv = ['/bin/sh', '-c', s.command];
  ctx.report.debug(`engine exec: ${JSON.stringify(argv)} as ${conn.user ?? "the image's user"}`);
  return runEngineSession(await ctx.engine(), conn.containerId, { argv, tty: s.tty, env: withTerm([], ctx.env.TERM), ...(conn.user ? { user: conn.user } : {}) }, ctx);
}

/** Runs one ssh session with the terminal handed over; resolves with the remote status. */
function runSession(ctx: Context, target: SshTarget, s: SessionRequest): Promise<number> {
  // Forwards and the agent get their own connection, so they end with the session
  // instead of lingering in (or being refused by) the shared master.
  const useMaster = s.forwards.length === 0 && !s.forwardAgent;
  return runAttached(sessionArgs(target, { ...s, useMaster }), (l) => ctx.report.debug(l));
}

/** Closes the env's ControlMaster, if one is up (before stop, restart, destroy). */
export async function closeMaster(ctx: Context, name: string): Promise<void> {
  const cached = readEnvState(ctx.paths.envState(name));
  if (!cached) return;
  await closeMasterAt(ctx, sshTarget(ctx, name, cached));
}

export async function closeMasterAt(ctx: Context, target: SshTarget): Promise<void> {
  if (await masterAlive(target.controlPath)) await runCaptured(masterControlArgs(target, 'exit'), (l) => ctx.report.debug(l));
}

function sshFailure(ctx: Context, name: string, stderr: string): RuntimeError {
  if (/host key verification failed|remote host identification has changed|host key for .* has changed/i.test(stderr)) {
    return new RuntimeError(`the host key of ${name} does not match the key spoon pinned; refusing to connect`, {
      hint: `the pin in ${ctx.paths.knownHosts(name)} was read through the engine, so whatever answers at ${ctx.endpoint.url} for ${name} is not its sshd; someone may be in the middle. \`spoon doctor\` checks it`,
    });
  }
  if (/permission denied/i.test(stderr)) {
    return new RuntimeError(`${name} refused spoon's key: ${firstLine(stderr)}`, {
      hint: `spoon added its key ${ctx.paths.clientKey}.pub through the engine and the env still refuses it; \`spoon doctor\` checks the env's sshd`,
    });
  }
  // Refused, closed, timed out: the env's sshd is not there; healing may help.
  return new SshdUnavailableError(`cannot connect to ${name} over ssh: ${firstLine(stderr)}`, { hint: 'run with --debug to see the ssh command line' });
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() && !l.startsWith('@'))?.trim() ?? text.trim();
}
