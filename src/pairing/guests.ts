/**
 * Pairing guests (SPEC "Pairing"): someone without engine access joins the env's
 * tmux session with their own key. Enforced in the container, never by trusting
 * the guest's client: each guest is a unix user whose key is bound to a forced
 * `tmux attach` with `restrict,pty` (no other command, forwarding, agent, X11 or
 * sftp), and the owner's tmux server admits them with `server-access`, read-only
 * (`-r`: their keystrokes are refused by the server) unless asked otherwise.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Engine } from '../engine/engine.js';
import { NoSuchEnvError, RuntimeError, UsageError, describeCause } from '../errors.js';
import { findEnv } from '../core/find-env.js';
import type { Context } from '../core/context.js';
import type { EnvPlan } from '../core/plan.js';
import { GUEST_USER_PREFIX, SPOON_DIR, TMUX_SOCKET } from '../core/provision.js';
import { runEngineCaptured } from '../core/engine-session.js';
import { parsePublicKey } from '../ssh/keys.js';
import { shellQuote } from '../ssh/args.js';
import { hostAlias } from '../ssh/known-hosts.js';
import { readIfExists } from '../state/files.js';

export interface ShareRequest {
  keyFile: string;
  /** `--as`; when left out, made from the key (defaultGuestName). */
  guest: string | undefined;
  readOnly: boolean;
}

export interface ShareResult {
  guest: string;
  command: string;
  knownHosts: string;
  user: string;
  host: string;
  port: number;
  readOnly: boolean;
}

export interface Client {
  user: string;
  guest: string | null;
  readOnly: boolean;
  tty: string;
}

const GUEST_RE = /^[a-z][a-z0-9-]{0,19}$/;

interface Ready {
  engine: Engine;
  id: string;
  owner: string;
  host: string;
  port: number;
}

export async function share(ctx: Context, name: string, plan: EnvPlan, req: ShareRequest): Promise<ShareResult> {
  if (req.guest !== undefined) validateGuest(req.guest);
  const key = readGuestKey(req.keyFile);
  const guest = req.guest ?? defaultGuestName(req.keyFile, key.comment);
  const env = await readyEnv(ctx, name, plan, true);
  await requireServerAccess(env, name);
  const user = GUEST_USER_PREFIX + guest;
  if ((await run(env, ['id', '-u', user], 'root')).code === 0) {
    throw new UsageError(`a guest named '${guest}' already shares ${name}`, { hint: `pick another name, or revoke it first: spoon unshare ${name} ${guest}` });
  }

  const session = plan.options.session;
  const attach = shellQuote(['tmux', '-S', TMUX_SOCKET, 'attach-session', ...(req.readOnly ? ['-r'] : []), '-t', session]);
  const keyLine = `restrict,pty,command="${attach}" ${key.type} ${key.blob}`;
  const made = await run(
    env,
    [
      'sh',
      '-c',
      // The account has no password but is not locked ('*'): sshd without PAM refuses locked accounts.
      `useradd -M -d / -s /bin/sh "$GUEST" && usermod -p '*' "$GUEST" && printf '%s\\n' "$KEYLINE" > "${SPOON_DIR}/authorized_keys/$GUEST" && chmod 644 "${SPOON_DIR}/authorized_keys/$GUEST"`,
    ],
    'root',
    [`GUEST=${user}`, `KEYLINE=${keyLine}`],
  );
  if (made.code !== 0) {
    // The account may exist without its key: that would make every retry "already shares".
    await removeGuest(env, user);
    throw new RuntimeError(`could not add guest '${guest}' to ${name}: ${lastLine(made.stderr)}`, { hint: 'the image needs useradd (passwd package)' });
  }

  // The owner's session must exist for the guest to join; the socket is opened to all
  // local users, and tmux's own access list decides who may connect.
  const access = await run(
    env,
    ['sh', '-c', `tmux -S "$SOCK" has-session -t "$SESSION" 2>/dev/null || tmux -S "$SOCK" new-session -d -s "$SESSION"; chmod 777 "$SOCK" && tmux -S "$SOCK" server-access ${req.readOnly ? '-ar' : '-aw'} "$GUEST"`],
    env.owner,
    [`SOCK=${TMUX_SOCKET}`, `SESSION=${session}`, `GUEST=${user}`],
  );
  if (access.code !== 0) {
    await removeGuest(env, user);
    throw new RuntimeError(`could not let guest '${guest}' into the tmux session of ${name}: ${lastLine(access.stderr)}`);
  }

  const knownHosts = (readIfExists(ctx.paths.knownHosts(name)) ?? '').trim();
  const command = shellQuote(['ssh', '-t', '-p', String(env.port), '-o', `HostKeyAlias=${hostAlias(name)}`, '-o', 'StrictHostKeyChecking=yes', `${user}@${env.host}`]);
  return { guest, command, knownHosts, user, host: env.host, port: env.port, readOnly: req.readOnly };
}

export async function unshare(ctx: Context, name: string, plan: EnvPlan, guest: string): Promise<void> {
  validateGuest(guest);
  const env = await readyEnv(ctx, name, plan, false);
  const user = GUEST_USER_PREFIX + guest;
  if ((await run(env, ['id', '-u', user], 'root')).code !== 0) {
    throw new RuntimeError(`no guest named '${guest}' shares ${name}`, { hint: `see who is connected with: spoon who ${name}` });
  }
  // Out of tmux first (this detaches the guest's clients), then no key, no processes, no account.
  await run(env, ['sh', '-c', `tmux -S "$SOCK" server-access -d "$GUEST" 2>/dev/null; true`], env.owner, [`SOCK=${TMUX_SOCKET}`, `GUEST=${user}`]);
  await removeGuest(env, user);
}

export async function who(ctx: Context, name: string, plan: EnvPlan): Promise<Client[]> {
  const env = await readyEnv(ctx, name, plan, false);
  const r = await run(env, ['tmux', '-S', TMUX_SOCKET, 'list-clients', '-F', '#{client_user}\t#{client_readonly}\t#{client_tty}'], env.owner);
  if (r.code !== 0) return []; // no tmux server: nobody is attached
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [user = '', readOnly = '0', tty = ''] = line.split('\t');
      return { user, guest: user.startsWith(GUEST_USER_PREFIX) ? user.slice(GUEST_USER_PREFIX.length) : null, readOnly: readOnly === '1', tty };
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
  return { engine, id: container.id, owner: conn.target.user, host: conn.target.host, port: conn.target.port };
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

async function removeGuest(env: Ready, user: string): Promise<void> {
  await run(env, ['sh', '-c', `rm -f "${SPOON_DIR}/authorized_keys/$GUEST"; pkill -KILL -u "$GUEST" 2>/dev/null; userdel "$GUEST" 2>/dev/null; true`], 'root', [`GUEST=${user}`]);
}

function run(env: Ready, cmd: string[], user: string, vars: string[] = []) {
  return runEngineCaptured(env.engine, env.id, cmd, { user, env: vars });
}

function validateGuest(guest: string): void {
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
