/**
 * `spoon doctor`: checks what spoon depends on and says how to fix each problem.
 * Every check runs even when an earlier one fails.
 */
import { statSync } from 'node:fs';
import { defaultImageTag } from '../images/default-image.js';
import { runCaptured } from '../ssh/spawn.js';
import { describeCause } from '../errors.js';
import type { Context } from './context.js';
import { LABEL, envNameOf } from './labels.js';
import { HOST_KEY } from './provision.js';
import { isSpoonSshd, sshBanner } from './wait-sshd.js';
import { envPortHost } from '../engine/endpoint.js';
import { readIfExists } from '../state/files.js';
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { formatDuration } from '../config/duration.js';
import { IDLE_FILE, parseIdleFile } from './idle-stop.js';
import { nodeProblem } from './list.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export async function runDoctor(ctx: Context): Promise<Check[]> {
  const base = await Promise.all([checkEngine(ctx), checkSshClient(), checkClientKey(ctx), checkDefaultImage(ctx)]);
  return [...base, ...(base[0]?.ok ? await checkEnvs(ctx) : [])];
}

/** Each env: its container's state, whether its sshd answers, and whether its host key is the pinned one. */
async function checkEnvs(ctx: Context): Promise<Check[]> {
  const engine = await ctx.engine();
  // Warm-pool members waiting to be claimed are no envs.
  const containers = (await engine.listContainers({ [LABEL.name]: true })).filter((c) => envNameOf(c) !== undefined);
  return Promise.all(containers.map(async (c) => withIdleStop(engine, c, await checkEnv(ctx, engine, c))));
}

/** The env's idle_stop setting (and, running, how long it has been idle), after its check; nothing when it is off. */
async function withIdleStop(engine: Engine, c: ContainerInfo, check: Check): Promise<Check> {
  const setting = c.labels[LABEL.idleStop];
  if (!setting) return check;
  let idle = '';
  if (c.state === 'running') {
    const read = parseIdleFile(await engine.readFile(c.id, IDLE_FILE).catch(() => undefined));
    idle = read ? `, idle ${formatDuration(read.idle)}` : ', its idle watcher has not reported yet';
  }
  return { ...check, detail: `${check.detail}; idle_stop ${setting} (stops itself after ${setting} idle${idle})` };
}

async function checkEnv(ctx: Context, engine: Engine, c: ContainerInfo): Promise<Check> {
  const env = envNameOf(c) ?? c.name;
  const check = (ok: boolean, detail: string, fix?: string): Check => ({ name: `env ${env}`, ok, detail, ...(fix ? { fix } : {}) });
  const away = nodeProblem(c.node);
  if (away) return check(false, `${c.state}; ${away}`, `make the node active again (docker node update --availability active ${c.node?.id.slice(0, 12)}) or bring it back up; spoon never recreates the env on another node`);
  if (c.state === 'dead' || c.state === 'restarting') return check(false, `the container is ${c.state}`, `spoon ${env} heals it (restart, then recreate with the volumes kept, asking first)`);
  if (c.state === 'paused') return check(true, `paused; \`spoon ${env}\` resumes it`);
  if (c.state !== 'running') return check(true, `${c.state}; \`spoon ${env}\` starts it`);
  if (c.labels[LABEL.connect] === 'exec') return check(true, 'running; entered through the engine (its image has no sshd)');
  const ssh = c.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
  if (!ssh?.host) return check(false, 'running, but it publishes no ssh port (not made by this spoon)', `if it is yours and nobody else uses it: spoon destroy ${env} && spoon up ${env}`);
  const pinned = readIfExists(ctx.paths.knownHosts(env))?.trim().split(/\s+/).slice(1, 3).join(' ');
  const presented = (await engine.readFile(c.id, `${HOST_KEY}.pub`))?.toString('utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  if (pinned && presented && pinned !== presented) {
    return check(false, `its host key is not the one spoon pinned in ${ctx.paths.knownHosts(env)} (it was made again since you last connected)`, `spoon ${env} pins its new key, read through the engine`);
  }
  // Through an ssh engine the port is only reachable from that host.
  if (ctx.endpoint.kind !== 'ssh') {
    const host = envPortHost(ctx.endpoint, ssh.hostIp ?? '127.0.0.1', c.node);
    if (!(await sshBanner(host, ssh.host, 2000))) {
      const gone = (await engine.processes(c.id))?.some(isSpoonSshd) === false;
      return check(false, `running, but its sshd ${gone ? 'is not running' : `does not answer on ${host}:${ssh.host}`}`, `spoon up ${env} -N (starts its sshd again, or restarts the container)`);
    }
  }
  return check(true, `running; sshd answers on port ${ssh.host}${pinned ? ', host key matches the pin' : '; host key not pinned here yet (the next `spoon ' + env + '` pins it)'}`);
}

async function checkEngine(ctx: Context): Promise<Check> {
  try {
    const engine = await ctx.engine();
    return { name: 'engine', ok: true, detail: `${await engine.describe()} at ${ctx.endpoint.url}` };
  } catch (err) {
    return {
      name: 'engine',
      ok: false,
      detail: describeCause(err),
      fix: 'start Docker (or `podman system service`), or point --engine / DOCKER_HOST at a running engine',
    };
  }
}

async function checkSshClient(): Promise<Check> {
  try {
    const { code, stderr } = await runCaptured(['-V']);
    if (code !== 0) throw new Error(stderr.trim());
    return { name: 'ssh client', ok: true, detail: stderr.trim() };
  } catch (err) {
    return { name: 'ssh client', ok: false, detail: describeCause(err), fix: 'install OpenSSH (Debian/Ubuntu: apt-get install openssh-client)' };
  }
}

async function checkClientKey(ctx: Context): Promise<Check> {
  try {
    const mode = statSync(ctx.paths.clientKey).mode & 0o777;
    if (mode & 0o077) {
      return { name: 'client key', ok: false, detail: `${ctx.paths.clientKey} has mode ${mode.toString(8)}`, fix: `chmod 600 ${ctx.paths.clientKey}` };
    }
    return { name: 'client key', ok: true, detail: `${ctx.paths.clientKey} (mode 600)` };
  } catch {
    return { name: 'client key', ok: true, detail: `not made yet; spoon makes ${ctx.paths.clientKey} on first use` };
  }
}

async function checkDefaultImage(ctx: Context): Promise<Check> {
  const tag = defaultImageTag();
  try {
    const engine = await ctx.engine();
    const img = await engine.inspectImage(tag);
    return img
      ? { name: 'default image', ok: true, detail: `${tag} is built` }
      : { name: 'default image', ok: true, detail: `${tag} is not built yet; the first \`spoon up\` builds it (about 30 s)` };
  } catch (err) {
    return { name: 'default image', ok: false, detail: `cannot check: ${describeCause(err)}` };
  }
}
