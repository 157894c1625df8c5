/**
 * Pairing guests (SPEC "Pairing"): someone without engine access joins the env's
 * tmux session with their own key. Enforced in the container, never by trusting
 * the guest's client: each guest is a unix user whose key is bound to a forced
 * attach (the env helper's guest-attach, with `restrict,pty` and, for a timed guest,
 * sshd's own `expiry-time`: no other command, forwarding, agent, X11 or sftp), and the
 * owner's tmux server admits them with `server-access`, read-only (`-r`: the server
 * refuses their keystrokes) or read-write; a role change applies to attached clients at
 * once. Also `who` (everyone attached, by identity) and the env's audit log.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { NoSuchEnvError, RuntimeError, UsageError, describeCause } from '../errors.js';
import { findEnv } from '../core/find-env.js';
import type { Context } from '../core/context.js';
import type { EnvPlan } from '../core/plan.js';
import { GUEST_USER_PREFIX } from '../core/provision.js';
import { LABEL } from '../core/labels.js';
import { callerIdentity } from '../core/client-keys.js';
import { HELPER } from './env-helper.js';
import { WEB_VIEWER_PREFIX } from './viewer.js';
import { runEngineCaptured } from '../core/engine-session.js';
import { parsePublicKey } from '../ssh/keys.js';
import { shellQuote } from '../ssh/args.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { readIfExists } from '../state/files.js';

export type Access = 'ro' | 'rw';

export interface ShareRequest {
  /** `--key`; without it, share changes an existing guest's access (`--as` and a role needed). */
  keyFile: string | undefined;
  /** `--as`; when left out, made from the key (defaultGuestName). */
  guest: string | undefined;
  /** `--read-only` / `--read-write`; undefined keeps an existing guest's, and is read-write for a new one. */
  access: Access | undefined;
  /** `--for`, in seconds: the guest's access ends by itself then. */
  forSeconds: number | undefined;
}

export interface ShareResult {
  guest: string;
  /** What this share did: a new guest, an existing one updated (key, role, time), or only the role changed. */
  action: 'added' | 'updated' | 'role';
  command: string;
  knownHosts: string;
  user: string;
  /** The env's own user, whose session the guest joins. */
  owner: string;
  host: string;
  port: number;
  readOnly: boolean;
  /** ISO time the access ends, or null. */
  expiresAt: string | null;
}

export interface Client {
  /** Who: a member's identity (their key's comment or user@host), or the guest's name. */
  person: string;
  /** owner: who made the env; member: anyone else with engine access; guest: let in by share; viewer: a browser (share --web). */
  role: 'owner' | 'member' | 'guest' | 'viewer';
  user: string;
  guest: string | null;
  readOnly: boolean;
  tty: string;
  /** A timed guest's end (ISO), or null. */
  expiresAt: string | null;
  secondsLeft: number | null;
}

export interface AuditEntry {
  time: string;
  event: 'share' | 'join' | 'leave' | 'role' | 'unshare' | 'expire' | string;
  who: string;
  kind: 'member' | 'guest' | string;
  detail: string;
}

const GUEST_RE = /^[a-z][a-z0-9-]{0,19}$/;

interface Ready {
  engine: Engine;
  id: string;
  owner: string;
  creator: string | undefined;
  host: string;
  port: number;
}

export async function share(ctx: Context, name: string, plan: EnvPlan, req: ShareRequest): Promise<ShareResult> {
  if (req.guest !== undefined) validateGuest(req.guest);
  if (req.keyFile === undefined) return changeRole(ctx, name, plan, req);
  const key = readGuestKey(req.keyFile);
  const guest = req.guest ?? defaultGuestName(req.keyFile, key.comment);
  const env = await readyEnv(ctx, name, plan, true);
  await requireServerAccess(env, name);
  const user = GUEST_USER_PREFIX + guest;
  await helper(env, 'root', 'prune');
  const existing = parseGuestRecord((await helper(env, 'root', 'guest', user)).stdout);
  const access: Access = req.access ?? existing?.access ?? 'rw';
  const expires = req.forSeconds === undefined ? undefined : Math.floor(Date.now() / 1000) + req.forSeconds;

  const session = plan.options.session;
  // The role is read from the guest's record at each login (guest-attach), so a role
  // change needs no new key line; the expiry is sshd's to enforce.
  const options = ['restrict', 'pty', ...(expires === undefined ? [] : [`expiry-time="${sshTime(expires)}"`]), `command="${HELPER} guest-attach ${session}"`];
  const keyLine = `${options.join(',')} ${key.type} ${key.blob}`;
  const made = await helper(env, 'root', 'add-guest', user, access, expires === undefined ? '' : String(expires), keyLine);
  if (made.code !== 0) {
    // A new account without its key would refuse every later share of this name.
    if (!existing) await helper(env, 'root', 'remove-guest', user);
    throw new RuntimeError(`could not add guest '${guest}' to ${name}: ${lastLine(made.stderr)}`, { hint: 'the image needs useradd (passwd package)' });
  }
  // The session must exist for the guest to join; the role applies at once to clients
  // already attached (an update); then the audit log.
  const detail = describeAccess(access, expires);
  const granted = await run(
    env,
    ['sh', '-c', '"$0" grant "$1" && "$0" role "$2" "$3" && "$0" log share "$4" guest "$5"', HELPER, session, user, access, guest, detail],
    env.owner,
  );
  if (granted.code !== 0) {
    if (!existing) await helper(env, 'root', 'remove-guest', user);
    throw new RuntimeError(`could not let guest '${guest}' into the tmux session of ${name}: ${lastLine(granted.stderr)}`);
  }

  return shareResult(ctx, name, env, guest, existing ? 'updated' : 'added', access, expires);
}

/** What share tells the caller: how the guest connects (the one ssh command, the pin), and their access. */
function shareResult(ctx: Context, name: string, env: Ready, guest: string, action: ShareResult['action'], access: Access, expires: number | undefined): ShareResult {
  const user = GUEST_USER_PREFIX + guest;
  return {
    guest,
    action,
    command: shellQuote(['ssh', '-t', '-p', String(env.port), '-o', `HostKeyAlias=${hostAlias(name)}`, '-o', 'StrictHostKeyChecking=yes', `${user}@${env.host}`]),
    knownHosts: (readIfExists(ctx.paths.knownHosts(name)) ?? '').trim(),
    user,
    owner: env.owner,
    host: env.host,
    port: env.port,
    readOnly: access === 'ro',
    expiresAt: expires === undefined ? null : new Date(expires * 1000).toISOString(),
  };
}

/** `share NAME --as GUEST --read-only|--read-write`: the guest's attached clients change at once, no reconnect. */
async function changeRole(ctx: Context, name: string, plan: EnvPlan, req: ShareRequest): Promise<ShareResult> {
  if (req.guest === undefined || req.access === undefined || req.forSeconds !== undefined) {
    throw new UsageError('--key: needed to add a guest; without it, share changes a guest\'s role and needs --as GUEST and --read-only or --read-write', {
      hint: `spoon share ${name} --as alice --read-only, or spoon share ${name} --key alice.pub`,
    });
  }
  const guest = req.guest;
  const user = GUEST_USER_PREFIX + guest;
  const env = await readyEnv(ctx, name, plan, false);
  const set = await helper(env, 'root', 'set-access', user, req.access);
  if (set.code === 3) throw new RuntimeError(`no guest named '${guest}' shares ${name}`, { hint: `add them with: spoon share ${name} --key ${guest}.pub --as ${guest}` });
  if (set.code !== 0) throw new RuntimeError(`could not change the role of guest '${guest}' in ${name}: ${lastLine(set.stderr)}`);
  const record = parseGuestRecord((await helper(env, 'root', 'guest', user)).stdout);
  const detail = describeAccess(req.access, record?.expires);
  // No tmux server (nobody attached): the new role applies when the owner next attaches.
  await run(env, ['sh', '-c', '"$0" role "$1" "$2" 2>/dev/null; "$0" log role "$3" guest "$4"', HELPER, user, req.access, guest, detail], env.owner);
  return shareResult(ctx, name, env, guest, 'role', req.access, record?.expires);
}

export async function unshare(ctx: Context, name: string, plan: EnvPlan, guest: string): Promise<void> {
  validateGuest(guest);
  const env = await readyEnv(ctx, name, plan, false);
  const user = GUEST_USER_PREFIX + guest;
  if ((await run(env, ['id', '-u', user], 'root')).code !== 0) {
    throw new RuntimeError(`no guest named '${guest}' shares ${name}`, { hint: `see who is connected with: spoon who ${name}` });
  }
  // Out of tmux first (this detaches the guest's clients), then no key, no processes, no account.
  await run(env, ['sh', '-c', '"$0" revoke "$1"; "$0" log unshare "$2" guest ""', HELPER, user, guest], env.owner);
  await helper(env, 'root', 'remove-guest', user);
}

export async function who(ctx: Context, name: string, plan: EnvPlan): Promise<Client[]> {
  const env = await readyEnv(ctx, name, plan, false);
  return clientsOf(env.engine, env.id, env.owner, env.creator);
}

/**
 * Who is attached to a running env, asked without starting or healing it (for stop and
 * destroy): empty when it is not running, is entered through the engine, or predates
 * the pairing helper.
 */
export async function attachedNow(engine: Engine, container: ContainerInfo): Promise<Client[]> {
  const owner = container.labels[LABEL.user];
  if (container.state !== 'running' || container.labels[LABEL.connect] !== 'ssh' || !owner) return [];
  return clientsOf(engine, container.id, owner, container.labels[LABEL.creator]);
}

async function clientsOf(engine: Engine, id: string, owner: string, creator: string | undefined): Promise<Client[]> {
  const r = await runEngineCaptured(engine, id, [HELPER, 'who'], { user: owner });
  if (r.code !== 0) return [];
  const now = Date.now() / 1000;
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [person = '', kind = '', readOnly = '0', tty = '', expires = '', user = ''] = line.split('\t');
      const guest = kind === 'guest' ? user.slice(GUEST_USER_PREFIX.length) : null;
      const exp = expires ? Number(expires) : undefined;
      return {
        person,
        role: guest !== null ? 'guest' : person.startsWith(WEB_VIEWER_PREFIX) ? 'viewer' : person === creator ? 'owner' : 'member',
        user,
        guest,
        readOnly: readOnly === '1',
        tty,
        expiresAt: exp === undefined ? null : new Date(exp * 1000).toISOString(),
        secondsLeft: exp === undefined ? null : Math.max(0, Math.round(exp - now)),
      };
    });
}

/** The env's audit log, oldest first. */
export async function auditLog(ctx: Context, name: string, plan: EnvPlan): Promise<AuditEntry[]> {
  const env = await readyEnv(ctx, name, plan, false);
  const r = await helper(env, env.owner, 'read-log');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [time = '', event = '', who = '', kind = '', detail = ''] = line.split('\t');
      return { time, event, who, kind, detail };
    });
}

/**
 * The running env, reached the way `spoon NAME` reaches it (created or started with its
 * setup commands, healed when broken). Only `share` may create it: `who` and `unshare`
 * of an env that does not exist are errors.
 */
async function readyEnv(ctx: Context, name: string, plan: EnvPlan, mayCreate: boolean): Promise<Ready> {
  const engine = await ctx.engine();
  if (!mayCreate && !(await findEnv(engine, name, plan.options.prefix))) throw new NoSuchEnvError(name);
  const { connect } = await import('../core/connect.js');
  const conn = await connect(ctx, name, { plan, explicitSettings: false });
  if (conn.kind !== 'ssh') {
    throw new RuntimeError(`${name} has no sshd (its image has none), so guests cannot reach it`, { hint: 'use an image with openssh-server and tmux 3.3+, like spoon\'s default' });
  }
  const container = await findEnv(engine, name, plan.options.prefix);
  if (!container) throw new NoSuchEnvError(name);
  if (!(await engine.pathExists(container.id, HELPER))) {
    throw new RuntimeError(`${name} was made by an older spoon, without the pairing helper guests need`, {
      hint: 'ask whoever made it to recreate it when nobody is working in it (spoon destroy, then spoon up; the home volume is kept)',
    });
  }
  return { engine, id: container.id, owner: conn.target.user, creator: container.labels[LABEL.creator], host: conn.target.host, port: conn.target.port };
}

/** Read-only guests rely on tmux 3.3's server-access; an older tmux cannot keep them out. */
async function requireServerAccess(env: Ready, name: string): Promise<void> {
  const v = await run(env, ['tmux', '-V'], env.owner);
  const m = /tmux (\d+)\.(\d+)/.exec(v.stdout);
  const ok = m && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 3));
  if (!ok) {
    throw new RuntimeError(`${name} has ${v.stdout.trim() || 'no tmux'}; sharing needs tmux 3.3 or newer (server-access), so no guest was added`, {
      hint: 'until the image has tmux 3.3+, pair by having your partner run `spoon NAME` against the same engine',
    });
  }
}

function run(env: Ready, cmd: string[], user: string) {
  return runEngineCaptured(env.engine, env.id, cmd, { user });
}

/** The env's pairing helper, as `user`; arguments travel as argv, never through a shell. */
function helper(env: Ready, user: string, ...args: string[]) {
  return run(env, [HELPER, ...args], user);
}

function parseGuestRecord(text: string): { access: Access; expires: number | undefined } | undefined {
  const access = /^access=(ro|rw)$/m.exec(text)?.[1] as Access | undefined;
  if (!access) return undefined;
  const expires = /^expires=(\d+)$/m.exec(text)?.[1];
  return { access, expires: expires ? Number(expires) : undefined };
}

function describeAccess(access: Access, expires: number | undefined): string {
  return `${access === 'ro' ? 'read-only' : 'read-write'}${expires === undefined ? '' : ` until ${new Date(expires * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}`}`;
}

/** OpenSSH's expiry-time: YYYYMMDDHHMMSSZ, in UTC. */
export function sshTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** `--for`: 30m, 2h, 1d, 1h30m, 90s. */
export function parseDuration(text: string): number {
  const m = /^(?:\d+[smhd])+$/.test(text) ? text.match(/\d+[smhd]/g) : null;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const seconds = (m ?? []).reduce((sum, part) => sum + Number(part.slice(0, -1)) * (unit[part.slice(-1)] ?? 0), 0);
  if (!m || seconds <= 0 || seconds > 366 * 86400) {
    throw new UsageError(`--for: invalid duration '${text}'`, { hint: 'a time like 30m, 2h, 1d or 1h30m (at most a year)' });
  }
  return seconds;
}

function validateGuest(guest: string): void {
  // `spoon unshare NAME web` ends the web view (share --web).
  if (guest === 'web') throw new UsageError("guest name 'web' is taken: `spoon unshare NAME web` ends the web view", { hint: 'choose another name with --as' });
  if (!GUEST_RE.test(guest)) throw new UsageError(`invalid guest name '${guest}': use 1-20 of a-z 0-9 - starting with a letter`);
}

/**
 * The guest name when `--as` is left out: the user part of the key's comment
 * (`alice@laptop`), else the key file's name (`alice.pub`, not ssh-keygen's `id_*`
 * defaults, which say nothing of the guest), fitted to a-z 0-9 -.
 */
export function defaultGuestName(keyFile: string, comment: string): string {
  const file = basename(keyFile).replace(/\.pub$/, '');
  for (const source of [comment.split('@')[0] ?? '', file.startsWith('id_') ? '' : file]) {
    const guest = source.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 20).replace(/-+$/, '');
    if (GUEST_RE.test(guest)) return guest;
  }
  throw new UsageError(`--as: no guest name can be made from ${keyFile}`, { hint: 'name the guest: --as alice' });
}

function readGuestKey(file: string): { type: string; blob: string; comment: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `--key: ${file} does not exist` : `--key: cannot read ${file}: ${describeCause(err)}`);
  }
  const line = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  const key = line ? parsePublicKey(line) : undefined;
  if (!key) throw new UsageError(`--key: ${file} is not an OpenSSH public key`, { hint: 'ask the guest for their .pub file, e.g. ~/.ssh/id_ed25519.pub' });
  return key;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * The people attached to env NAME other than the caller (by identity), for stop and
 * destroy to say who they would cut off. Empty when the env is not there or not running.
 */
export async function othersAttached(ctx: Context, name: string, prefix: string): Promise<Client[]> {
  const engine = await ctx.engine();
  const container = await findEnv(engine, name, prefix);
  if (!container) return [];
  const me = callerIdentity(ctx.env);
  return (await attachedNow(engine, container)).filter((c) => c.guest !== null || c.person !== me);
}

/** `alice@laptop (owner), gina (guest, read-only)`. */
export function describeClients(clients: Client[]): string {
  return clients.map((c) => `${c.person} (${c.role === 'viewer' ? 'web viewer' : c.role}${c.readOnly ? ', read-only' : ''})`).join(', ');
}
