/**
 * `spoon ssh-config`: OpenSSH `Host spoon-NAME` blocks so ssh, scp, rsync and IDEs
 * reach envs. They go through `spoon proxy NAME` rather than a fixed port, because
 * the engine picks a new host port each time a stopped env starts; the host key is
 * still checked against spoon's pin.
 */
import { connect as tcpConnect } from 'node:net';
import type { Context } from './context.js';
import type { EnvPlan } from './plan.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { NoSuchEnvError, RuntimeError } from '../errors.js';
import { findEnv } from './find-env.js';
import { LABEL, envNameOf } from './labels.js';
import { sshEngineArgv } from '../engine/endpoint.js';

export interface SshConfigEntry {
  name: string;
  user: string;
}

/** The envs that have sshd (an env entered through the engine has no ssh to offer). */
export async function sshConfigEntries(ctx: Context, only: string | undefined): Promise<SshConfigEntry[]> {
  const engine = await ctx.engine();
  const containers = await engine.listContainers({ [LABEL.name]: true });
  return containers
    .filter((c) => c.labels[LABEL.connect] !== 'exec' && envNameOf(c) !== undefined && (only === undefined || envNameOf(c) === only))
    .map((c) => ({ name: envNameOf(c) ?? c.name, user: c.labels[LABEL.user] ?? 'dev' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One `Host` block; `proxy` is the command line that runs `spoon proxy NAME`. */
export function sshConfigBlock(ctx: Context, entry: SshConfigEntry, proxy: string): string {
  const quote = (p: string) => (/\s/.test(p) ? `"${p}"` : p);
  return [
    `Host ${hostAlias(entry.name)}`,
    `  User ${entry.user}`,
    `  ProxyCommand ${proxy}`,
    `  IdentityFile ${quote(ctx.paths.clientKey)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quote(ctx.paths.knownHosts(entry.name))}`,
    `  HostKeyAlias ${hostAlias(entry.name)}`,
    '  StrictHostKeyChecking yes',
    '  PasswordAuthentication no',
    '  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256',
    '',
  ].join('\n');
}

/**
 * `spoon proxy NAME` (what ProxyCommand runs): readies the env, starting it if it is
 * stopped, then joins stdin/stdout to its sshd.
 */
export async function proxyToEnv(ctx: Context, name: string, plan: EnvPlan): Promise<number> {
  // Never creates: the env's setup commands would print into the ssh byte stream on stdout.
  if (!(await findEnv(await ctx.engine(), name, plan.options.prefix))) {
    throw new NoSuchEnvError(name);
  }
  const { ensureEnv } = await import('./ensure-env.js');
  const ready = await ensureEnv(ctx, name, plan, { explicitSettings: false });
  if (ready.access.kind !== 'ssh') throw new RuntimeError(`${name} has no sshd (its image has none), so ssh cannot reach it`, { hint: `use spoon exec ${name} -- CMD` });
  const { sshHost, sshPort } = ready.access.state;
  if (ctx.endpoint.kind === 'ssh') {
    // The env's sshd listens on the engine's host: relay through ssh to it.
    const { runAttached } = await import('../ssh/spawn.js');
    return runAttached(sshEngineArgv(ctx.endpoint, { options: ['-W', `${sshHost}:${sshPort}`] }), (l) => ctx.report.debug(l));
  }
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: sshHost, port: sshPort });
    sock.once('error', (err) => reject(new RuntimeError(`cannot reach the sshd of ${name} at ${sshHost}:${sshPort}: ${err.message}`)));
    const { stdin, stdout } = ctx.terminal;
    sock.once('connect', () => {
      stdin.pipe(sock);
      sock.pipe(stdout);
    });
    sock.once('close', () => {
      // ssh has hung up or sshd went away: stop reading stdin so the process can end.
      stdin.unpipe(sock);
      stdin.destroy();
      resolve(0);
    });
  });
}
