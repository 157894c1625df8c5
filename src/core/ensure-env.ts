/**
 * The heart of `spoon up`: make sure env NAME exists, is provisioned, is running
 * and its sshd answers. Creates it if missing (image, home volume, container,
 * files put in before the first start), starts it if stopped. Two spoon processes
 * on one host serialise on a per-env lock, so concurrent `up`s end with one
 * container and both succeed.
 */
import type { ContainerInfo, ContainerSpec, Engine } from '../engine/engine.js';
import { ContainerNameConflict, EngineApiError } from '../engine/engine.js';
import { publishedPortHost } from '../engine/endpoint.js';
import { RuntimeError } from '../errors.js';
import { ensureImage, type ImageRef } from '../images/ensure-image.js';
import { generateEd25519 } from '../ssh/keys.js';
import { hostAlias, knownHostsLine } from '../ssh/known-hosts.js';
import { writeEnvState, type EnvState } from '../state/env-state.js';
import { readIfExists, writeAtomic } from '../state/files.js';
import { acquireLock } from '../state/lock.js';
import { configuredKeys, ensureClientKey, userPublicKeys } from './client-keys.js';
import type { Context } from './context.js';
import { findEnv } from './find-env.js';
import { LABEL, spoonVersion } from './labels.js';
import { containerName, hostnameFor, persistVolumeName } from './names.js';
import { configHash } from '../config/layers.js';
import type { EnvOptions } from '../config/schema.js';
import { containerPath, copyEntries } from './copy-files.js';
import { ENTRYPOINT, HOST_KEY, SSHD_BINARY, SSHD_CONFIG, TMUX_PATHS, findPasswdEntry, provisioningFiles } from './provision.js';
import { waitForSshd } from './wait-sshd.js';
import { undoOnFailure } from './undo.js';

export interface ReadyEnv {
  container: ContainerInfo;
  state: EnvState;
  /** This call created the env (so run_on_create is due). */
  created: boolean;
}

export interface EnsureOptions {
  /** True when some creation setting was given explicitly (flag, env var), so a mismatch is worth a warning. */
  explicitSettings: boolean;
}

export async function ensureEnv(ctx: Context, name: string, options: EnvOptions, ensure: EnsureOptions): Promise<ReadyEnv> {
  const engine = await ctx.engine();
  const lock = await acquireLock(ctx.paths.lock(name), `environment ${name}`, 15 * 60_000, () =>
    ctx.report.info(`waiting for another spoon process that is preparing ${name}`),
  );
  let container: ContainerInfo;
  let created = false;
  try {
    let found = await findEnv(engine, name, options.prefix);
    ctx.timeline.mark('inspect');
    if (found && (await isHalfMade(engine, found))) {
      ctx.report.info(`removing the half-made container of ${name} left by an interrupted create`);
      await engine.removeContainer(found.id);
      found = undefined;
    }
    if (!found) {
      container = await createEnv(ctx, engine, name, options);
      created = true;
    } else {
      container = found;
      if (ensure.explicitSettings && found.labels[LABEL.configHash] !== configHash(options)) {
        ctx.report.warn(
          `${name} was created with other settings; settings such as image, ports, volumes and resources apply only when an env is created`,
          `to recreate it: spoon destroy ${name} && spoon up ${name} ... (the home volume is kept)`,
        );
      }
      container = await startIfNeeded(ctx, engine, found);
    }
    if (readIfExists(ctx.paths.knownHosts(name)) === undefined) {
      // Pinned from the engine, which the user already trusts with root on this env.
      pinHostKey(ctx, name, await readHostPublicKey(engine, container));
    }
  } finally {
    lock.release();
  }

  const ssh = container.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
  if (!ssh?.host) {
    throw new RuntimeError(`${name} publishes no ssh port`, { hint: `it was not made by this spoon; recreate it: spoon destroy ${name} && spoon up ${name}` });
  }
  const state: EnvState = {
    containerId: container.id,
    engineUrl: ctx.endpoint.url,
    sshHost: publishedPortHost(ctx.endpoint, ssh.hostIp ?? options.listen),
    sshPort: ssh.host,
    user: container.labels[LABEL.user] ?? options.user,
    configHash: configHash(options),
  };
  writeEnvState(ctx.paths.envState(name), state);
  await waitForSshd(engine, container, state.sshHost, state.sshPort);
  ctx.timeline.mark('ssh-ready');
  return { container, state, created };
}

/** A container that was created but never started and lacks the provisioning marker. */
async function isHalfMade(engine: Engine, c: ContainerInfo): Promise<boolean> {
  return c.state === 'created' && c.startedAt === undefined && !(await engine.pathExists(c.id, SSHD_CONFIG));
}

async function createEnv(ctx: Context, engine: Engine, name: string, options: EnvOptions): Promise<ContainerInfo> {
  const image = await ensureImage(options.image, {
    engine,
    notice: (message) => ctx.report.info(message),
    progress: (line) => ctx.report.progress(line),
    lockPath: (key) => ctx.paths.lock(key),
    labels: { [LABEL.builtImage]: 'default', [LABEL.version]: spoonVersion },
  });
  ctx.timeline.mark('image');

  const authorizedKeys = [ensureClientKey(ctx.paths), ...userPublicKeys(ctx.env.HOME), ...configuredKeys(options.authorized_keys)];
  const hostKey = generateEd25519(hostAlias(name));
  const cname = containerName(options.prefix, name);
  const home = homeOf(options.user);
  for (const path of options.persist) {
    await engine.ensureVolume(persistVolumeName(name, path), { ...options.labels, [LABEL.name]: name, [LABEL.persist]: path });
  }
  const spec = containerSpec(name, cname, image, options);

  return undoOnFailure(
    async () => {
      let id: string;
      try {
        id = await engine.createContainer(spec);
      } catch (err) {
        if (err instanceof ContainerNameConflict) {
          throw new RuntimeError(`a container named ${cname} appeared while spoon was creating it`, { hint: 'another host may be using the same engine; try again' });
        }
        throw err;
      }
      ctx.timeline.mark('create');

      await checkImageFitsOnce(ctx, engine, id, image, options.user);
      const own = provisioningFiles({ user: options.user, env: options.env, hostPrivateKey: hostKey.privateKey, hostPublicKey: hostKey.publicKey, authorizedKeys });
      const copied = options.copy.length ? copyEntries(options.copy, await ownerOf(engine, id, options.user, home)) : { dirs: [], files: [] };
      // One upload, spoon's own files last: its sshd_config marks provisioning as complete.
      await engine.putFiles(id, [...copied.dirs, ...own.dirs], [...copied.files, ...own.files]);
      // A new container has a new key: replace any pin left by an env of the same name.
      pinHostKey(ctx, name, hostKey.publicKey);
      ctx.timeline.mark('provision');

      await startOrExplain(engine, id, name);
      ctx.timeline.mark('start');
      const started = await engine.inspectContainer(id);
      if (!started) throw new RuntimeError(`the container of ${name} vanished right after it started`);
      return started;
    },
    () => engine.removeContainer(cname),
    ctx.report,
  );
}

function homeOf(user: string): string {
  return `/home/${user}`;
}

/** The login user's uid and gid, from the image's /etc/passwd, to own the copied files. */
async function ownerOf(engine: Engine, id: string, user: string, home: string): Promise<{ uid: number; gid: number; home: string }> {
  const passwd = await engine.readFile(id, '/etc/passwd');
  const entry = passwd ? findPasswdEntry(passwd.toString('utf8'), user) : undefined;
  if (!entry) throw new RuntimeError(`the image has no user '${user}' to own the copied files`);
  return { uid: entry.uid, gid: entry.gid, home };
}

function containerSpec(name: string, cname: string, image: ImageRef, options: EnvOptions): ContainerSpec {
  const home = homeOf(options.user);
  return {
    name: cname,
    image: image.ref,
    labels: {
      ...options.labels,
      [LABEL.name]: name,
      [LABEL.version]: spoonVersion,
      [LABEL.configHash]: configHash(options),
      [LABEL.user]: options.user,
      [LABEL.session]: options.session,
    },
    entrypoint: ENTRYPOINT,
    cmd: [],
    // sshd must start as root whatever USER the image sets; logins are the env user.
    user: 'root',
    hostname: hostnameFor(name),
    env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    publish: [
      { container: 22, protocol: 'tcp', host: undefined, hostIp: options.listen },
      ...options.ports.map((p) => ({ container: p.container, protocol: p.protocol, host: p.host, hostIp: options.listen })),
    ],
    mounts: [
      ...options.persist.map((path) => ({ type: 'volume' as const, source: persistVolumeName(name, path), target: containerPath(path, home) })),
      ...options.volumes.map((v) => ({ type: v.type, source: v.source, target: v.target, readOnly: v.readOnly })),
    ],
    host: {
      cpus: options.cpus,
      cpuShares: options.cpu_shares,
      memory: options.memory,
      dns: options.dns,
      privileged: options.privileged,
    },
  };
}

/**
 * Each check is an archive request that mounts the container's filesystem (~90 ms
 * here), so a passing image is remembered by id; spoon's own image always passes.
 */
async function checkImageFitsOnce(ctx: Context, engine: Engine, id: string, image: ImageRef, user: string): Promise<void> {
  if (image.isDefault && user === 'dev') return;
  const marker = ctx.paths.imageFits(image.id, user);
  if (readIfExists(marker) !== undefined) return;
  await checkImageFits(engine, id, image, user);
  writeAtomic(marker, '');
}

/** Says plainly when the image cannot host a spoon env, before it is ever started. */
async function checkImageFits(engine: Engine, id: string, image: ImageRef, user: string): Promise<void> {
  const [hasSshd, tmuxFound, passwd] = await Promise.all([
    engine.pathExists(id, SSHD_BINARY),
    Promise.all(TMUX_PATHS.map((p) => engine.pathExists(id, p))),
    engine.readFile(id, '/etc/passwd'),
  ]);
  const fix = { hint: "install openssh-server and tmux in the image's Dockerfile, or leave --image unset to use spoon's default image" };
  if (!hasSshd) throw new RuntimeError(`image '${image.ref}' has no sshd (${SSHD_BINARY}); spoon needs openssh-server and tmux in the image`, fix);
  if (!tmuxFound.some(Boolean)) throw new RuntimeError(`image '${image.ref}' has no tmux; spoon needs openssh-server and tmux in the image`, fix);
  if (!passwd || !findPasswdEntry(passwd.toString('utf8'), user)) {
    throw new RuntimeError(`image '${image.ref}' has no user '${user}'`, { hint: 'pass --user with a user the image has, or add the user in its Dockerfile' });
  }
}

async function startIfNeeded(ctx: Context, engine: Engine, c: ContainerInfo): Promise<ContainerInfo> {
  if (c.state === 'running') return c;
  if (c.state === 'paused') {
    throw new RuntimeError(`${c.name} is paused`, { hint: `unpause it with \`docker unpause ${c.name}\`` });
  }
  ctx.report.verbose(`starting ${c.name} (was ${c.state})`);
  await startOrExplain(engine, c.id, c.labels[LABEL.name] ?? c.name);
  ctx.timeline.mark('start');
  const started = await engine.inspectContainer(c.id);
  if (!started) throw new RuntimeError(`the container ${c.name} vanished while it was starting`);
  return started;
}

async function startOrExplain(engine: Engine, id: string, name: string): Promise<void> {
  try {
    await engine.startContainer(id);
  } catch (err) {
    if (!(err instanceof EngineApiError)) throw err;
    const msg = err.engineMessage;
    const port = /(?:Bind for |listen \w+ )([\d.:[\]a-f]+:\d+)/.exec(msg)?.[1];
    if (/address already in use|port is already allocated/i.test(msg)) {
      throw new RuntimeError(`cannot start ${name}: host port ${port ?? ''} is already in use`.replace('port  is', 'port is'), {
        hint: 'publish it on another host port (--publish OTHER:CONTAINER) or stop what holds it',
      });
    }
    throw new RuntimeError(`cannot start ${name}: ${msg.split('\n')[0]}`);
  }
}

/** The env's public host key as the container has it (for pinning when the local pin is missing). */
async function readHostPublicKey(engine: Engine, c: ContainerInfo): Promise<string> {
  const pub = await engine.readFile(c.id, `${HOST_KEY}.pub`);
  if (!pub) throw new RuntimeError(`${c.name} has no spoon host key`, { hint: 'it was not provisioned by spoon; recreate it' });
  return pub.toString('utf8').trim();
}

/**
 * Pins the env's host key in spoon's known_hosts. Only called with a key spoon just
 * made or read through the engine; an ssh mismatch is never "fixed" by re-pinning.
 */
function pinHostKey(ctx: Context, name: string, hostPublicKey: string): void {
  writeAtomic(ctx.paths.knownHosts(name), knownHostsLine(hostAlias(name), hostPublicKey), 0o600);
}
