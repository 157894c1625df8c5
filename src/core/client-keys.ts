/**
 * spoon's own client key (generated once, 0600) and the user's public keys that are
 * also allowed into envs, so `ssh` with the user's usual key works too.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateEd25519, parsePublicKey } from '../ssh/keys.js';
import { ensureDir, readIfExists, stateError, writeAtomic } from '../state/files.js';
import type { StatePaths } from '../state/paths.js';
import { RuntimeError, UsageError } from '../errors.js';
import { WHO_VARIABLE } from './provision.js';

/** The caller's environment variables these read (the process environment, from the CLI). */
export interface KeyEnv {
  HOME?: string | undefined;
  HOSTNAME?: string | undefined;
  USER?: string | undefined;
}

export function ensureClientKey(paths: StatePaths, env: KeyEnv): string {
  const existing = readIfExists(paths.clientPublicKey);
  const hasPrivate = readIfExists(paths.clientKey) !== undefined;
  if (existing !== undefined && hasPrivate) return existing.trim();
  // A public half without its private key (deleted by hand) would be kept by the link below.
  if (existing !== undefined) rmSync(paths.clientPublicKey, { force: true });

  ensureDir(paths.root);
  const pair = generateEd25519(`spoon@${env.HOSTNAME ?? 'host'}`);
  // link() is atomic and fails if the target exists: two first runs agree on one key.
  const suffix = randomBytes(6).toString('hex');
  const tmp = `${paths.clientKey}.${suffix}.tmp`;
  const tmpPublic = `${paths.clientPublicKey}.${suffix}.tmp`;
  try {
    writeFileSync(tmp, pair.privateKey, { mode: 0o600 });
    writeFileSync(tmpPublic, pair.publicKey + '\n', { mode: 0o644 });
    linkSync(tmp, paths.clientKey);
    linkSync(tmpPublic, paths.clientPublicKey);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(`cannot write spoon's key ${paths.clientKey}`, err);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(tmpPublic, { force: true });
  }
  const published = readIfExists(paths.clientPublicKey);
  if (published !== undefined) return published.trim();
  // The private key is there but not yet its public half: another first run between its
  // two links, or one killed there. The public half is derived from the private key.
  const derived = spawnSync('ssh-keygen', ['-y', '-f', paths.clientKey], { encoding: 'utf8' });
  const line = derived.stdout?.trim();
  if (derived.status !== 0 || !line) {
    throw new RuntimeError(`cannot read spoon's key ${paths.clientKey}: ${derived.stderr?.trim() || derived.error?.message || 'ssh-keygen failed'}`, {
      hint: `remove ${paths.clientKey} and spoon makes a new key (it authorizes the new one in each env the next time you connect)`,
    });
  }
  writeAtomic(paths.clientPublicKey, `${line}\n`, 0o644);
  return line;
}

/**
 * The `authorized_keys` setting: key lines as they are, files read (every key
 * line in them). A file without a valid key is a configuration error.
 */
export function configuredKeys(entries: string[]): string[] {
  const keys: string[] = [];
  for (const entry of entries) {
    if (parsePublicKey(entry)) {
      keys.push(entry);
      continue;
    }
    const lines = (readIfExists(entry) ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const valid = lines.filter((l) => parsePublicKey(l));
    if (valid.length === 0) throw new UsageError(`authorized_keys: ${entry} holds no OpenSSH public key`, { hint: 'name a .pub file, e.g. ~/.ssh/id_ed25519.pub' });
    keys.push(...valid);
  }
  return keys;
}

/** The user's own public keys (~/.ssh/id_*.pub) that parse as OpenSSH keys. */
export function userPublicKeys(home: string | undefined): string[] {
  if (!home) return [];
  const keys: string[] = [];
  for (const file of ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub']) {
    const text = readIfExists(join(home, '.ssh', file));
    const line = text?.split('\n')[0]?.trim();
    if (line && parsePublicKey(line)) keys.push(line);
  }
  return keys;
}

/**
 * Who the caller is, as `who` and the audit log name them: the comment of their own
 * key (`alice@laptop`), else their local user@host. Kept to characters that need no
 * quoting in an authorized_keys option.
 */
export function callerIdentity(env: KeyEnv): string {
  return identityOf(userPublicKeys(env.HOME), env);
}

function identityOf(userKeys: string[], env: KeyEnv): string {
  const comment = userKeys.map((k) => parsePublicKey(k)?.comment ?? '').find((c) => c !== '');
  const raw = comment ?? `${safeUsername(env)}@${hostname()}`;
  return raw.replace(/[^A-Za-z0-9@._+-]+/g, '-').slice(0, 64) || 'unknown';
}

function safeUsername(env: KeyEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'user';
  }
}

export interface MemberKey {
  /** The key's base64 blob: the same key whatever options or comment a line gives it. */
  blob: string;
  /** The authorized_keys line: sshd hands the identity to the session (WHO_VARIABLE), so `who` can name them. */
  line: string;
}

/** The caller's keys (spoon's own and ~/.ssh/id_*.pub), each tagged with their identity. */
export function memberKeys(paths: StatePaths, env: KeyEnv): { identity: string; keys: MemberKey[] } {
  const userKeys = userPublicKeys(env.HOME);
  const identity = identityOf(userKeys, env);
  const keys = [ensureClientKey(paths, env), ...userKeys].flatMap((key) => {
    const k = parsePublicKey(key);
    return k ? [{ blob: k.blob, line: `environment="${WHO_VARIABLE}=${identity}" ${k.type} ${k.blob}${k.comment ? ` ${k.comment}` : ''}` }] : [];
  });
  return { identity, keys };
}
