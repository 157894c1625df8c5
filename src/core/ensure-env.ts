/**
 * The heart of `spoon up`: make sure env NAME exists, is provisioned, is running
 * and its sshd answers. Creates it if missing (image, home volume, container,
 * files put in before the first start), starts it if stopped. Two spoon processes
 * on one host serialise on a per-env lock, so concurrent `up`s end with one
 * container and both succeed.
 */
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ContainerInfo, ContainerSpec, DirEntry, Engine, FileEntry } from '../engine/engine.js';
import { ContainerNameConflict, EngineApiError } from '../engine/engine.js';
import { envPortHost } from '../engine/endpoint.js';
import { RuntimeError } from '../errors.js';
import { ensureImage, type ImageRef } from '../images/ensure-image.js';
import { generateEd25519 } from '../ssh/keys.js';
import { hostAlias, knownHostsLine } from '../ssh/known-hosts.js';
import { readEnvState, writeEnvState, type EnvState } from '../state/env-state.js';
import { readIfExists, writeAtomic } from '../state/files.js';
import { acquireLock } from '../state/lock.js';
import { configuredKeys, memberKeys } from './client-keys.js';
import { joinEnv } from './join.js';
import { runEngineCaptured } from './engine-session.js';
import { HELPER } from '../pairing/env-helper.js';
import type { Context } from './context.js';
import { findEnv } from './find-env.js';
import { LABEL, spoonVersion } from './labels.js';
import { containerName, hostnameFor, persistVolumeName } from './names.js';
import { encodePlan, planHash, userEnvProbeOf, type EnvPlan } from './plan.js';
import { sessionEnvFile } from './session-env.js';
import { containerPath, copyEntries } from './copy-files.js';
import { ENTRYPOINT, KEEPALIVE_ENTRYPOINT, PROVISIONED, SSHD_BINARY, TMUX_PATHS, findPasswdEntry, isProvisionedFor, provisionedMarker, provisioningFiles } from './provision.js';
import { stoppedError, waitForSshd } from './wait-sshd.js';
import { undoOnFailure } from './undo.js';
import { checkpoint } from './checkpoint.js';
import { unmetRequirements } from './host-requirements.js';
import { idleLabel } from './idle-stop.js';
import { poolRefOwner } from './pool-ref.js';

/** How spoon enters the env: its own sshd, or the engine's exec when the image has no sshd. */
export type EnvAccess = { kind: 'ssh'; state: EnvState } | { kind: 'exec'; user: string | undefined; tmux: boolean };

export interface ReadyEnv {
  container: ContainerInfo;
  access: EnvAccess;
  /** This call created the env (so run_on_create is due). */
  created: boolean;
  /** This call started the container (created, or started from stopped). */
  started: boolean;
  /** The warm pool (pool > 0) was asked for this new env: it wants refilling, whether a member was claimed or not. */
  refillPool?: boolean;
  /** Claimed from the pool: its ssh ControlMaster, started beside the claim (undefined once up, else what ssh said). */
  sshMaster?: Promise<string | undefined> | undefined;
}

export interface EnsureOptions {
  /** True when some creation setting was configured (file, env var, flag), so a mismatch is worth a warning. */
  explicitSettings: boolean;
  /** Runs (under the env's lock) right before the env is created or started: devcontainer.json's initializeCommand. */
  beforeStart?: () => Promise<void>;
}

export async function ensureEnv(ctx: Context, name: string, plan: EnvPlan, ensure: EnsureOptions): Promise<ReadyEnv> {
  const options = plan.options;
  const hash = planHash(plan);
  const engine = await ctx.engine();
  const lock = await acquireLock(ctx.paths.lock(name), `environment ${name}`, 15 * 60_000, () =>
    ctx.report.info(`waiting for another spoon process that is preparing ${name}`),
  );
  let container: ContainerInfo;
  let created = false;
  let started = false;
  let refillPool = false;
  let claimed = false;
  let sshMaster: Promise<string | undefined> | undefined;
  try {
    let found = await findEnv(engine, name, options.prefix);
    ctx.timeline.mark('inspect');
    if (found && (await isHalfMade(engine, found))) {
      ctx.report.info(`removing the half-made container of ${name} left by an interrupted create`);
      await engine.removeContainer(found.id);
      found = undefined;
    }
    if (!found) {
      await ensure.beforeStart?.();
      // The warm pool: a member made ahead of time becomes NAME, else NAME is made the slow way.
      refillPool = options.pool > 0 && !plan.from && options.backend !== 'swarm';
      const member = refillPool ? await (await import('./pool.js')).claimMember(ctx, engine, name, plan, hash) : undefined;
      claimed = member !== undefined;
      sshMaster = member?.sshMaster;
      container = member?.container ?? (await createEnv(ctx, engine, name, plan, hash));
      created = true;
      started = true;
    } else {
      container = found;
      if (ensure.explicitSettings && found.labels[LABEL.configHash] !== hash) {
        ctx.report.warn(
          `${name} was created with other settings; settings such as image, ports, volumes and resources apply only when an env is created`,
          `if the env is yours and nobody else uses it: spoon destroy ${name} && spoon up ${name} ... (the home volume is kept)`,
        );
      }
      // A paused container is resumed, not started: its postStart commands ran when it started.
      started = found.state !== 'running' && found.state !== 'paused';
      if (started) await ensure.beforeStart?.();
      container = await startIfNeeded(ctx, engine, name, found);
    }
    if (isExecMode(container)) {
      ctx.timeline.mark('ready');
      return { container, created, started, refillPool, access: { kind: 'exec', user: container.labels[LABEL.user] || undefined, tmux: container.labels[LABEL.tmux] === 'yes' } };
    }
    // An env this caller has not reached in this container yet (someone else made it, or
    // made it again): their keys go in and its host key is pinned, through the engine.
    if (!created && container.state === 'running' && needsJoin(ctx, name, container)) await joinEnv(ctx, engine, container, name);
  } finally {
    lock.release();
  }

  // It died right after starting (its sshd could not run): something healing may fix.
  if (container.state !== 'running') throw await stoppedError(engine, container);
  const ssh = container.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
  if (!ssh?.host) {
    throw new RuntimeError(`${name} publishes no ssh port`, { hint: `it was not made by this spoon; \`spoon doctor\` checks it` });
  }
  const state: EnvState = {
    containerId: container.id,
    engineUrl: ctx.endpoint.url,
    sshHost: envPortHost(ctx.endpoint, ssh.hostIp ?? options.listen, container.node),
    sshPort: ssh.host,
    user: container.labels[LABEL.user] ?? options.user,
    configHash: hash,
  };
  writeEnvState(ctx.paths.envState(name), state);
  if (created) await checkpoint(ctx, 'create:started');
  // Through an ssh engine the port is not reachable from here; the first ssh retries instead.
  // A claimed member's sshd answered the claim's probe just now.
  if (ctx.endpoint.kind !== 'ssh' && !claimed) await waitForSshd(engine, container, state.sshHost, state.sshPort);
  ctx.timeline.mark('ssh-ready');
  return { container, created, started, refillPool, sshMaster, access: { kind: 'ssh', state } };
}

function isExecMode(c: ContainerInfo): boolean {
  return c.labels[LABEL.connect] === 'exec';
}

/** A container that was created but never started and lacks the provisioning marker. */
async function isHalfMade(engine: Engine, c: ContainerInfo): Promise<boolean> {
  return c.state === 'created' && c.startedAt === undefined && !isProvisionedFor(await engine.readFile(c.id, PROVISIONED), c.id);
}

/** createEnv makes a warm-pool member (pool.ts) instead of env NAME: NAME is the member's id, this its container name. */
export interface PoolMemberSpec {
  containerName: string;
}

export async function createEnv(ctx: Context, engine: Engine, name: string, plan: EnvPlan, hash: string, member?: PoolMemberSpec): Promise<ContainerInfo> {
  const options = plan.options;
  for (const w of plan.devcontainer?.warnings ?? []) ctx.report.warn(`${plan.devcontainer?.file}: ${w}`);
  const required = plan.devcontainer?.hostRequirements;
  if (required && (required.cpus || required.memory)) {
    const unmet = unmetRequirements(required, await engine.resources());
    if (unmet.length > 0) {
      throw new RuntimeError(`cannot create ${name}: ${unmet.join('; ')}`, {
        hint: `use an engine on a bigger machine (--engine, DOCKER_HOST), or lower hostRequirements in devcontainer.json; nothing was created`,
      });
    }
  }
  let image = await ensureImage(plan.image, {
    engine,
    notice: (message) => ctx.report.info(message),
    progress: (line) => ctx.report.progress(line),
    lockPath: (key) => ctx.paths.lock(key),
    // As `spoon build` labels them: its own image 'default', a Dockerfile's 'build'.
    labels: { [LABEL.builtImage]: plan.image.kind === 'default' ? 'default' : 'build', [LABEL.version]: spoonVersion },
  });
  // devcontainer.json's features go into an image derived from that one.
  let featureEnv: Record<string, string> = {};
  const dc = plan.devcontainer;
  if (dc && (dc.features ?? []).length > 0) {
    const { ensureFeatures } = await import('../images/features.js');
    const derived = await ensureFeatures(
      image,
      { features: dc.features, overrideOrder: dc.featureOrder ?? [], resolveDir: (rel) => resolve(dirname(dc.file), rel), remoteUser: dc.remoteUser, containerUser: dc.containerUser },
      {
        engine,
        notice: (message) => ctx.report.info(message),
        warn: (message) => ctx.report.warn(message),
        progress: (line) => ctx.report.progress(line),
        lockPath: (key) => ctx.paths.lock(key),
        labels: { [LABEL.builtImage]: 'features', [LABEL.version]: spoonVersion },
      },
    );
    image = derived.image;
    featureEnv = derived.env;
  }
  ctx.timeline.mark('image');

  const members = memberKeys(ctx.paths, ctx.env);
  const authorizedKeys = [...members.keys.map((k) => k.line), ...configuredKeys(options.authorized_keys)];
  const hostKey = generateEd25519(hostAlias(name));
  const cname = member?.containerName ?? containerName(options.prefix, name);
  const home = homeOf(options.user);
  // Volumes this create makes (not ones kept from an earlier env of this name): an
  // interrupted create removes them with the container.
  const own = await engine.listVolumes({ [LABEL.name]: name });
  // An env claimed from the pool and made again (destroy, healing) keeps the member's volumes it took over.
  const volumesOwner = poolRefOwner(own) ?? name;
  const existing = new Set([...own, ...(volumesOwner === name ? [] : await engine.listVolumes({ [LABEL.name]: volumesOwner }))].map((v) => v.name));
  const made = options.persist.map((path) => persistVolumeName(volumesOwner, path)).filter((v) => !existing.has(v));
  const memberLabels: Record<string, string> = member ? { [LABEL.pool]: cname, [LABEL.creator]: members.identity } : {};

  return undoOnFailure(
    async () => {
      // `up --from NAME:TAG`: the persist volumes start as the snapshot's copies.
      if (plan.from) await (await import('./snapshot.js')).restoreSnapshotVolumes(ctx, engine, plan.from, name, options.persist, options.labels);
      for (const path of options.persist) {
        await engine.ensureVolume(persistVolumeName(volumesOwner, path), { ...options.labels, [LABEL.name]: volumesOwner, [LABEL.persist]: path, ...memberLabels });
      }
      const madeAs: MadeAs = { owner: volumesOwner, member: member !== undefined };
      let id = await createContainer(engine, containerSpec(name, cname, image, plan, hash, { kind: 'ssh' }, members.identity, madeAs));
      ctx.timeline.mark('create');
      await checkpoint(ctx, 'create:created');

      const fit = await imageFit(ctx, engine, id, image, options.user);
      // remoteEnv and userEnvProbe, exact, for every session on either path (session-env.ts says why a file).
      const sessionEnv = sessionEnvFile({ env: { ...featureEnv, ...options.env }, remoteEnv: plan.devcontainer?.remoteEnv ?? {}, probe: userEnvProbeOf(plan) });
      let files: FileEntry[];
      let dirs: DirEntry[];
      if (fit.sshd) {
        // sshd's SetEnv too, for ssh clients other than spoon's (ssh-config): as near as sshd_config allows
        // (no newlines); sshd sessions do not inherit the image's env, so the features' containerEnv goes in too.
        const setEnv = { ...featureEnv, ...options.env, ...(plan.devcontainer?.remoteEnv ?? {}) };
        // A pool member waits without its idle watcher; claiming it switches it on (pool.ts).
        const own = provisioningFiles({ containerId: id, user: options.user, env: setEnv, hostPrivateKey: hostKey.privateKey, hostPublicKey: hostKey.publicKey, authorizedKeys, idleStop: member ? undefined : options.idle_stop });
        const copied = options.copy.length ? copyEntries(options.copy, fit.user ? { ...fit.user, home } : await ownerOf(engine, id, options.user, home)) : { dirs: [], files: [] };
        dirs = [...copied.dirs, ...own.dirs];
        files = [...copied.files, sessionEnv, ...own.files];
      } else {
        // No sshd: made again to be entered through the engine's exec (SPEC), as the
        // configured user when the image has one, else as the image's own user.
        if (member) throw new RuntimeError(`image '${image.ref}' has no sshd: the warm pool keeps only envs spoon reaches over ssh`, { hint: 'set pool = 0 for this configuration' });
        await engine.removeContainer(id);
        // devcontainer.json's containerUser is who the container and, lacking the configured user, its sessions run as.
        const user = fit.user ? options.user : plan.devcontainer?.containerUser;
        ctx.report.info(
          `image '${image.ref}' has no sshd: spoon enters ${name} through the engine${fit.user ? '' : ` as ${user ?? "the image's user"} (it has no user '${options.user}')`}; pairing guests, ssh-config and ssh forwards need sshd in the image`,
        );
        if (options.idle_stop) ctx.report.warn(`idle_stop does not apply to ${name}: its watcher runs beside spoon's sshd, which the image lacks`);
        // `~` (persist, copy) is the home of whoever sessions run as: root when the image names nobody.
        const owner = (fit.passwd && findPasswdEntry(fit.passwd, user ?? 'root')) || { uid: 0, gid: 0, home: '/root' };
        id = await createContainer(engine, containerSpec(name, cname, image, plan, hash, { kind: 'exec', user, tmux: fit.tmux, home: owner.home }, members.identity, madeAs));
        const copied = options.copy.length ? copyEntries(options.copy, owner) : { dirs: [], files: [] };
        dirs = copied.dirs;
        files = [...copied.files, sessionEnv, provisionedMarker(id)];
      }
      // One upload, the provisioning marker last.
      await engine.putFiles(id, dirs, files);
      // A new container has a new key: replace any pin left by an env of the same name.
      if (fit.sshd) pinHostKey(ctx, name, hostKey.publicKey);
      ctx.timeline.mark('provision');
      await checkpoint(ctx, 'create:provisioned');

      await startOrExplain(engine, id, name);
      ctx.timeline.mark('start');
      // A snapshot's image carries the accounts of the guests its env had; their keys
      // are not read here (sshd reads this container's guests only), and the accounts go.
      if (plan.from && fit.sshd) {
        const pruned = await runEngineCaptured(engine, id, [HELPER, 'prune'], { user: 'root' });
        if (pruned.code !== 0) ctx.report.warn(`could not remove the guest accounts ${name}'s snapshot carried: ${pruned.stderr.trim().split('\n').pop() ?? ''}`, 'they cannot log in (this env reads no guest keys of theirs); `spoon unshare` removes each');
      }
      const started = await engine.inspectContainer(id);
      if (!started) throw new RuntimeError(`the container of ${name} vanished right after it started`);
      return started;
    },
    async () => {
      await removeUntilGone(engine, cname);
      for (const v of made) await engine.removeVolume(v);
      // The pin was for the container just removed.
      rmSync(ctx.paths.knownHosts(name), { force: true });
    },
    ctx,
  );
}

/**
 * Removes a half-made container even while the interrupted flow is still talking to
 * the engine (a removal can be refused while a start is in flight): tries until gone.
 */
async function removeUntilGone(engine: Engine, nameOrId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await engine.removeContainer(nameOrId);
    } catch (err) {
      if (attempt >= 20) throw err;
    }
    if (!(await engine.inspectContainer(nameOrId))) return;
    if (attempt >= 20) throw new RuntimeError(`could not remove the half-made container ${nameOrId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createContainer(engine: Engine, spec: ContainerSpec): Promise<string> {
  try {
    return await engine.createContainer(spec);
  } catch (err) {
    if (err instanceof ContainerNameConflict) {
      throw new RuntimeError(`a container named ${spec.name} appeared while spoon was creating it`, { hint: 'another host may be using the same engine; try again' });
    }
    throw err;
  }
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

type SpecMode = { kind: 'ssh' } | { kind: 'exec'; user: string | undefined; tmux: boolean; home: string };

/** Whose names the persist volumes carry (NAME, or the pool member a claimed env took them from), and whether this is a pool member. */
interface MadeAs {
  owner: string;
  member: boolean;
}

function containerSpec(name: string, cname: string, image: ImageRef, plan: EnvPlan, hash: string, mode: SpecMode, creator: string, made: MadeAs): ContainerSpec {
  const options = plan.options;
  const dc = plan.devcontainer;
  const home = mode.kind === 'exec' ? mode.home : homeOf(options.user);
  const exec = mode.kind === 'exec';
  return {
    name: cname,
    image: image.ref,
    labels: {
      ...options.labels,
      ...(dc?.labels ?? {}),
      [LABEL.name]: name,
      [LABEL.version]: spoonVersion,
      [LABEL.configHash]: hash,
      [LABEL.plan]: encodePlan(plan),
      [LABEL.user]: exec ? (mode.user ?? '') : options.user,
      [LABEL.session]: options.session,
      [LABEL.creator]: creator,
      [LABEL.connect]: mode.kind,
      ...(exec ? { [LABEL.tmux]: mode.tmux ? 'yes' : 'no' } : {}),
      ...(!exec && options.idle_stop ? { [LABEL.idleStop]: idleLabel(options.idle_stop) } : {}),
      ...(made.member ? { [LABEL.pool]: cname, [LABEL.prefix]: options.prefix } : {}),
      // A snapshot's image carries the labels of the env it was taken of (a commit keeps them): not its claim.
      ...(plan.from ? { [LABEL.pool]: '', [LABEL.prefix]: '' } : {}),
    },
    entrypoint: exec ? KEEPALIVE_ENTRYPOINT : ENTRYPOINT,
    cmd: [],
    // sshd must start as root whatever USER the image sets; logins are the env user.
    // Without sshd the container keeps the image's own user (or devcontainer.json's containerUser).
    ...(exec ? (dc?.containerUser ? { user: dc.containerUser } : {}) : { user: 'root' }),
    // A member's hostname cannot become the NAME that claims it later (the engine fixes it at create): a neutral one.
    hostname: made.member ? 'spoon' : hostnameFor(name),
    env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    publish: [
      ...(exec ? [] : [{ container: 22, protocol: 'tcp' as const, host: undefined, hostIp: options.listen }]),
      ...options.ports.map((p) => ({ container: p.container, protocol: p.protocol, host: p.host, hostIp: options.listen })),
    ],
    mounts: [
      ...options.persist.map((path) => ({ type: 'volume' as const, source: persistVolumeName(made.owner, path), target: containerPath(path, home) })),
      ...options.volumes.map((v) => ({ type: v.type, source: v.source, target: v.target, readOnly: v.readOnly })),
      ...(dc?.workspaceMount ? [{ type: 'bind' as const, source: dc.workspaceMount.source, target: dc.workspaceMount.target }] : []),
    ],
    host: {
      cpus: options.cpus,
      cpuShares: options.cpu_shares,
      memory: options.memory,
      dns: options.dns,
      privileged: options.privileged,
      capAdd: dc?.capAdd ?? [],
      securityOpt: dc?.securityOpt ?? [],
      init: dc?.init ?? false,
    },
    ...(options.node !== undefined ? { node: options.node } : {}),
  };
}

interface ImageFit {
  sshd: boolean;
  tmux: boolean;
  /** The login user's passwd entry; undefined if the image lacks the user (or when known to fit). */
  user: { uid: number; gid: number; home: string } | undefined;
  /** The image's /etc/passwd, when it was read. */
  passwd: string | undefined;
}

/**
 * What the image offers: sshd, tmux, the login user. Each check is an archive request
 * that mounts the container's filesystem (~90 ms here), so an image that fits is
 * remembered by id; spoon's own image always fits. An image with sshd must also have
 * tmux and the user; one without sshd is entered through the engine instead.
 */
async function imageFit(ctx: Context, engine: Engine, id: string, image: ImageRef, user: string): Promise<ImageFit> {
  const marker = ctx.paths.imageFits(image.id, user);
  if ((image.isDefault && user === 'dev') || readIfExists(marker) !== undefined) return { sshd: true, tmux: true, user: undefined, passwd: undefined };
  const [hasSshd, tmuxFound, passwd] = await Promise.all([
    engine.pathExists(id, SSHD_BINARY),
    Promise.all(TMUX_PATHS.map((p) => engine.pathExists(id, p))),
    engine.readFile(id, '/etc/passwd'),
  ]);
  const passwdText = passwd?.toString('utf8');
  const fit = { sshd: hasSshd, tmux: tmuxFound.some(Boolean), user: passwdText ? findPasswdEntry(passwdText, user) : undefined, passwd: passwdText };
  if (!fit.sshd) return fit;
  if (!fit.tmux) {
    throw new RuntimeError(`image '${image.ref}' has sshd but no tmux; spoon attaches to tmux over ssh`, {
      hint: "install tmux in the image's Dockerfile, or leave --image unset to use spoon's default image",
    });
  }
  if (!fit.user) throw new RuntimeError(`image '${image.ref}' has no user '${user}'`, { hint: 'pass --user with a user the image has, or add the user in its Dockerfile' });
  writeAtomic(marker, '');
  return fit;
}

async function startIfNeeded(ctx: Context, engine: Engine, name: string, c: ContainerInfo): Promise<ContainerInfo> {
  if (c.state === 'running') return c;
  if (c.state === 'paused') {
    // Under the env's lock, so no snapshot is running: the pause is left over (a snapshot killed hard) or someone's `docker pause`.
    ctx.report.info(`${name} was paused; resuming it`);
    await engine.unpauseContainer(c.id);
    rmSync(ctx.paths.pausedMarker(name), { force: true });
    const resumed = await engine.inspectContainer(c.id);
    if (!resumed) throw new RuntimeError(`the container ${c.name} vanished while it was resumed`);
    return resumed;
  }
  ctx.report.verbose(`starting ${c.name} (was ${c.state})`);
  await startOrExplain(engine, c.id, name);
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

/** This caller's state and pin are not for this container (or are missing). */
function needsJoin(ctx: Context, name: string, c: ContainerInfo): boolean {
  if (!readIfExists(ctx.paths.knownHosts(name))?.trim()) return true;
  return readEnvState(ctx.paths.envState(name))?.containerId !== c.id;
}

/**
 * Pins the env's host key in spoon's known_hosts. Only called with a key spoon just
 * made or read through the engine; an ssh mismatch is never "fixed" by re-pinning.
 */
function pinHostKey(ctx: Context, name: string, hostPublicKey: string): void {
  writeAtomic(ctx.paths.knownHosts(name), knownHostsLine(hostAlias(name), hostPublicKey), 0o600);
}
