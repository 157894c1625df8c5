/**
 * The warm pool (`pool = N`): N envs kept created, provisioned, started and answering ssh
 * for one effective configuration (the plan's hash, the env's config-hash label), so a
 * new env is claimed instead of made.
 *
 * A member is a container `spoon-_pool-HASH-RANDOM` whose labels say so (LABEL.pool: its
 * own name; LABEL.name: its id `_pool-HASH-RANDOM`, never a valid NAME, so no lookup by a
 * user's NAME finds it) with volumes named after that id. It is claimable once complete:
 * its host key pinned and its sshd answered, after which the ready marker in spoon's state
 * (envs/ID/pool-ready) is written last; a fill interrupted before that leaves nothing
 * claimable, and the next fill or drain removes it.
 *
 * Claiming first takes the member's claim token (envs/ID/pool-claimed, created O_EXCL:
 * of two claimers exactly one gets it; members are claimed only by who made them, whose
 * state holds the markers), then renames the container to PREFIX+NAME. The engine's
 * rename alone does not exclude: two renames of one container by its old name, in flight
 * at once, both succeed (Docker 20.10 resolves the name before it locks the container).
 * The claimed env is named by its container name from then on
 * (labels.ts envNameOf), keeps the member's volumes (recorded in NAME's pool-ref volume,
 * pool-ref.ts), gets the host key pinned under NAME's alias, and its idle watcher starts.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { ContainerNameConflict } from '../engine/engine.js';
import { publishedPortHost } from '../engine/endpoint.js';
import { RuntimeError, UsageError } from '../errors.js';
import { defaultImageTag } from '../images/default-image.js';
import { ensureImage, folderImageTag } from '../images/ensure-image.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { readIfExists, writeAtomic } from '../state/files.js';
import { acquireLock, type Lock } from '../state/lock.js';
import { checkpoint } from './checkpoint.js';
import { closeMasterAt, ensureMaster, sshTarget } from './connect.js';
import { callerIdentity } from './client-keys.js';
import type { Context } from './context.js';
import { runEngineCaptured } from './engine-session.js';
import { IDLE_SCRIPT, idleConfigFile } from './idle-stop.js';
import { LABEL, envNameOf, spoonVersion } from './labels.js';
import { containerName } from './names.js';
import { planHash, type EnvPlan } from './plan.js';
import { writePoolRef } from './pool-ref.js';
import { sshBanner, waitForSshd } from './wait-sshd.js';

/** How long a member's sshd may take to greet before the member counts as bad. */
const PROBE_MS = 1500;

/** Members' ids (and so their volumes' names) start so; `_` never starts a NAME. */
const MEMBER_ID_PREFIX = '_pool-';

export interface PoolMember {
  /** The member's container name. */
  name: string;
  configHash: string;
  state: ContainerInfo['state'];
  /** Complete, running and made by this caller: `spoon up NEW` with its configuration may take it. */
  claimable: boolean;
  image: string;
  createdAt: string;
}

/**
 * The warm pool applies to plans it can make ahead of time: not from a snapshot, not with
 * devcontainer features (a derived image), and not on the swarm backend, whose services
 * cannot be renamed (a claim is a rename).
 */
export function poolable(plan: EnvPlan): boolean {
  return !plan.from && (plan.devcontainer?.features ?? []).length === 0 && plan.options.backend !== 'swarm';
}

function memberIdOf(c: ContainerInfo): string {
  return c.labels[LABEL.name] ?? '';
}

function readyMarker(ctx: Context, memberId: string): string {
  return join(ctx.paths.envDir(memberId), 'pool-ready');
}

function claimToken(ctx: Context, memberId: string): string {
  return join(ctx.paths.envDir(memberId), 'pool-claimed');
}

/** How long a taken claim token keeps a fill away from the member: a claim takes well under a second; older, its claimer died. */
const CLAIM_GRACE_MS = 60_000;

function isReady(ctx: Context, c: ContainerInfo): boolean {
  const id = memberIdOf(c);
  return id.startsWith(MEMBER_ID_PREFIX) && existsSync(readyMarker(ctx, id)) && !existsSync(claimToken(ctx, id));
}

/** Takes the member's claim token: true for exactly one caller. */
function takeClaimToken(ctx: Context, memberId: string): boolean {
  try {
    closeSync(openSync(claimToken(ctx, memberId), 'wx', 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A claim is at work on the member right now (its token is fresh). */
function beingClaimed(ctx: Context, memberId: string): boolean {
  try {
    return Date.now() - statSync(claimToken(ctx, memberId)).mtimeMs < CLAIM_GRACE_MS;
  } catch {
    return false;
  }
}

/** Members still waiting (not claimed), of every configuration. */
async function waitingMembers(engine: Engine, hash?: string): Promise<ContainerInfo[]> {
  const all = await engine.listContainers(hash ? { [LABEL.pool]: true, [LABEL.configHash]: hash } : { [LABEL.pool]: true });
  return all.filter((c) => envNameOf(c) === undefined);
}

export async function listPool(ctx: Context): Promise<PoolMember[]> {
  const engine = await ctx.engine();
  const identity = callerIdentity(ctx.env);
  return (await waitingMembers(engine))
    .map((c) => ({
      name: c.name,
      configHash: c.labels[LABEL.configHash] ?? '',
      state: c.state,
      claimable: c.state === 'running' && c.labels[LABEL.creator] === identity && isReady(ctx, c),
      image: c.image,
      createdAt: c.createdAt,
    }))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The id of the image the plan's env would be made from now, without building or pulling: undefined when it is not there. */
async function currentImageId(engine: Engine, plan: EnvPlan): Promise<string | undefined> {
  const source = plan.image;
  const ref = source.kind === 'default' ? defaultImageTag() : source.kind === 'ref' ? source.ref : (source.tag ?? folderImageTag(source.context));
  return (await engine.inspectImage(ref))?.id;
}

/**
 * Makes one waiting member env NAME, or returns undefined (then NAME is made the slow way):
 * none matches, or NAME's volumes already exist (it reattaches them the normal way).
 * Called under NAME's lock, with no container of NAME's.
 */
export interface Claimed {
  container: ContainerInfo;
  /** The env's ssh ControlMaster, started beside the claim: undefined once up, else what ssh said. */
  sshMaster: Promise<string | undefined> | undefined;
}

export async function claimMember(ctx: Context, engine: Engine, name: string, plan: EnvPlan, hash: string): Promise<Claimed | undefined> {
  if (!poolable(plan)) return undefined;
  const options = plan.options;
  const [own, members, imageId] = await Promise.all([engine.listVolumes({ [LABEL.name]: name }), waitingMembers(engine, hash), currentImageId(engine, plan)]);
  ctx.timeline.mark('pool');
  if (own.length > 0) {
    ctx.report.verbose(`not claiming from the pool: ${name}'s volumes exist`);
    return undefined;
  }
  const identity = callerIdentity(ctx.env);
  const candidates = members.filter((m) => m.labels[LABEL.creator] === identity && isReady(ctx, m)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const cname = containerName(options.prefix, name);
  for (const m of candidates) {
    const ssh = m.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
    // A member gone bad is skipped here and discarded by the refill this claim starts.
    if (m.state !== 'running' || m.imageId !== imageId || !ssh?.host) {
      ctx.report.verbose(`pool member ${m.name} is ${m.state !== 'running' ? m.state : m.imageId !== imageId ? 'of another image' : 'without ssh'}; skipping it`);
      continue;
    }
    // Another spoon of this caller's took it first: the next one.
    if (!takeClaimToken(ctx, memberIdOf(m))) continue;
    const sshHost = publishedPortHost(ctx.endpoint, ssh.hostIp ?? options.listen);
    // The member's own key, pinned when it was made, is NAME's from now on: under NAME's alias
    // before the rename, so the ssh handshake, the probe and the rename go on at once (each
    // costs about as much). A member without a pin has its key read through the engine later.
    const pinned = pinAs(ctx, memberIdOf(m), name);
    const target = sshTarget(ctx, name, { containerId: m.id, engineUrl: ctx.endpoint.url, sshHost, sshPort: ssh.host, user: m.labels[LABEL.user] ?? options.user, configHash: hash });
    const direct = ctx.endpoint.kind !== 'ssh';
    const sshMaster = pinned && direct ? ensureMaster(ctx, name, target).catch((err: Error) => err.message) : undefined;
    const probe = direct ? sshBanner(sshHost, ssh.host, PROBE_MS) : Promise.resolve(true);
    const giveUp = async () => {
      if (sshMaster) await sshMaster;
      await closeMasterAt(ctx, target);
      rmSync(ctx.paths.knownHosts(name), { force: true });
    };
    let renamed: boolean;
    try {
      renamed = await engine.renameContainer(m.name, cname);
    } catch (err) {
      await probe;
      await giveUp();
      if (err instanceof ContainerNameConflict) throw new RuntimeError(`a container named ${cname} appeared while spoon was creating it`, { hint: 'another host may be using the same engine; try again' });
      throw err;
    }
    const answers = await probe;
    if (!renamed || !answers) {
      await giveUp();
      // Removed meanwhile (a drain): the next one.
      if (!renamed) continue;
      ctx.report.verbose(`pool member ${m.name}: its sshd does not answer; giving it back for the refill to discard`);
      // Its own name again, and not ready (the marker goes before the token, so nobody claims it meanwhile): the refill removes it.
      rmSync(readyMarker(ctx, memberIdOf(m)), { force: true });
      rmSync(claimToken(ctx, memberIdOf(m)), { force: true });
      await engine.renameContainer(cname, m.name);
      continue;
    }
    ctx.timeline.mark('claim');
    await finishClaim(ctx, engine, name, m, plan);
    ctx.report.verbose(`${name}: claimed pool member ${m.name}`);
    return { container: { ...m, name: cname }, sshMaster };
  }
  return undefined;
}

/** Pins the member's host key (pinned when it was made) under NAME's alias; false when it has none. */
function pinAs(ctx: Context, memberId: string, name: string): boolean {
  const pin = readIfExists(ctx.paths.knownHosts(memberId));
  if (!pin?.trim()) {
    rmSync(ctx.paths.knownHosts(name), { force: true });
    return false;
  }
  writeAtomic(ctx.paths.knownHosts(name), pin.replace(/^\S+/, hostAlias(name)), 0o600);
  return true;
}

/** What makes the renamed member NAME's besides its pin: the record of its volumes, its idle watcher. */
async function finishClaim(ctx: Context, engine: Engine, name: string, m: ContainerInfo, plan: EnvPlan): Promise<void> {
  const memberId = memberIdOf(m);
  rmSync(ctx.paths.envDir(memberId), { recursive: true, force: true });
  const idle = plan.options.idle_stop;
  await Promise.all([
    writePoolRef(engine, name, m, plan.options.labels),
    // The member waited without its idle watcher (it must not stop itself in the pool); the env counts from now.
    idle
      ? engine.putFiles(m.id, [], [idleConfigFile(idle)]).then(() =>
          runEngineCaptured(engine, m.id, ['/bin/sh', '-c', `${IDLE_SCRIPT} < /dev/null > /proc/1/fd/1 2> /proc/1/fd/2 &`], { user: 'root' }),
        )
      : undefined,
  ]);
}

export interface FillResult {
  made: string[];
  discarded: string[];
  /** Another fill holds the pool (background refills then leave it to that one). */
  busy: boolean;
}

/**
 * Brings the plan's pool to `plan.options.pool` claimable members: discards the caller's
 * members of this configuration that are incomplete, stopped, of another image or whose
 * sshd does not answer, then makes the missing ones, one at a time.
 */
export async function fillPool(ctx: Context, plan: EnvPlan, opts: { wait: boolean }): Promise<FillResult> {
  if (plan.options.backend === 'swarm') {
    throw new UsageError('the warm pool is not available on the swarm backend: a Swarm service cannot be renamed, and claiming a member renames it', { hint: 'set pool = 0 where backend = "swarm"' });
  }
  if (!poolable(plan)) {
    throw new RuntimeError('the warm pool does not keep envs made from a snapshot or with devcontainer features', { hint: 'set pool = 0 for this configuration' });
  }
  const engine = await ctx.engine();
  const hash = planHash(plan);
  const result: FillResult = { made: [], discarded: [], busy: false };
  let lock: Lock;
  try {
    lock = await acquireLock(ctx.paths.lock('_pool'), 'the warm pool', opts.wait ? 15 * 60_000 : 0, () => ctx.report.info('waiting for another spoon process that is filling the pool'));
  } catch (err) {
    if (opts.wait) throw err;
    result.busy = true;
    return result;
  }
  try {
    result.discarded.push(...(await sweepOrphans(ctx, engine)));
    const image = await ensureImage(plan.image, {
      engine,
      notice: (message) => ctx.report.info(message),
      progress: (line) => ctx.report.progress(line),
      lockPath: (key) => ctx.paths.lock(key),
      labels: { [LABEL.builtImage]: plan.image.kind === 'default' ? 'default' : 'build', [LABEL.version]: spoonVersion },
    });
    const identity = callerIdentity(ctx.env);
    let good = 0;
    for (const m of (await waitingMembers(engine, hash)).filter((c) => c.labels[LABEL.creator] === identity)) {
      if (beingClaimed(ctx, memberIdOf(m))) continue;
      if (await healthy(ctx, m, image.id, plan)) good++;
      else {
        await removeMember(ctx, engine, m);
        result.discarded.push(m.name);
      }
    }
    const { createEnv } = await import('./ensure-env.js');
    for (; good < plan.options.pool; good++) {
      const memberId = `${MEMBER_ID_PREFIX}${hash.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
      const cname = `spoon-${memberId}`;
      ctx.report.info(`pool: making ${cname}`);
      const c = await createEnv(ctx, engine, memberId, plan, hash, { containerName: cname });
      const ssh = c.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
      if (!ssh?.host) throw new RuntimeError(`pool member ${cname} publishes no ssh port`);
      if (ctx.endpoint.kind !== 'ssh') await waitForSshd(engine, c, publishedPortHost(ctx.endpoint, ssh.hostIp ?? plan.options.listen), ssh.host);
      await checkpoint(ctx, 'pool:answered');
      // Last: from here on it may be claimed.
      writeAtomic(readyMarker(ctx, memberId), `${hash}\n`);
      result.made.push(cname);
    }
    return result;
  } finally {
    lock.release();
  }
}

async function healthy(ctx: Context, m: ContainerInfo, imageId: string, plan: EnvPlan): Promise<boolean> {
  if (!isReady(ctx, m) || m.state !== 'running' || m.imageId !== imageId) return false;
  const ssh = m.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
  if (!ssh?.host) return false;
  return ctx.endpoint.kind === 'ssh' || sshBanner(publishedPortHost(ctx.endpoint, ssh.hostIp ?? plan.options.listen), ssh.host, PROBE_MS);
}

/** A waiting member, its volumes and its state here. Renamed meanwhile (claimed), it is left alone. */
async function removeMember(ctx: Context, engine: Engine, m: ContainerInfo): Promise<string[]> {
  const memberId = memberIdOf(m);
  const now = await engine.inspectContainer(m.id);
  if (now && envNameOf(now) !== undefined) return [];
  await engine.removeContainer(m.id);
  const volumes = (await engine.listVolumes({ [LABEL.name]: memberId })).map((v) => v.name);
  for (const v of volumes) await engine.removeVolume(v);
  rmSync(ctx.paths.envDir(memberId), { recursive: true, force: true });
  return volumes;
}

/**
 * What interrupted fills and claims leave: members' volumes whose container is gone and that
 * no claimed env records as its own, and members' state here with no container.
 */
async function sweepOrphans(ctx: Context, engine: Engine): Promise<string[]> {
  const [containers, volumes, refs] = await Promise.all([
    engine.listContainers({ [LABEL.pool]: true }),
    // Only this caller's: another's fill may have made a volume whose container is not there yet.
    engine.listVolumes({ [LABEL.pool]: true, [LABEL.creator]: callerIdentity(ctx.env) }),
    engine.listVolumes({ [LABEL.poolRef]: true }),
  ]);
  const alive = new Set(containers.map(memberIdOf));
  const claimed = new Set(refs.map((r) => r.labels[LABEL.poolRef]));
  const removed: string[] = [];
  for (const v of volumes) {
    const owner = v.labels[LABEL.name] ?? '';
    if (alive.has(owner) || claimed.has(owner)) continue;
    await engine.removeVolume(v.name);
    removed.push(v.name);
  }
  const envs = join(ctx.paths.root, 'envs');
  for (const dir of existsSync(envs) ? readdirSync(envs) : []) {
    if (dir.startsWith(MEMBER_ID_PREFIX) && !alive.has(dir)) rmSync(join(envs, dir), { recursive: true, force: true });
  }
  return removed;
}

export interface DrainResult {
  members: string[];
  volumes: string[];
}

/** Removes every waiting member (of every configuration) and its volumes; claimed envs stay. */
export async function drainPool(ctx: Context): Promise<DrainResult> {
  const engine = await ctx.engine();
  const lock = await acquireLock(ctx.paths.lock('_pool'), 'the warm pool', 15 * 60_000, () => ctx.report.info('waiting for another spoon process that is filling the pool'));
  try {
    const result: DrainResult = { members: [], volumes: [] };
    const identity = callerIdentity(ctx.env);
    // Only this caller's: on a shared engine another person's pool is theirs to drain.
    // One a claim is at work on becomes an env in a moment.
    for (const m of (await waitingMembers(engine)).filter((c) => c.labels[LABEL.creator] === identity && !beingClaimed(ctx, memberIdOf(c)))) {
      const volumes = await removeMember(ctx, engine, m);
      result.members.push(m.name);
      result.volumes.push(...volumes);
    }
    result.volumes.push(...(await sweepOrphans(ctx, engine)));
    return result;
  } finally {
    lock.release();
  }
}

