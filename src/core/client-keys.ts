/**
 * spoon's own client key (generated once, 0600) and the user's public keys that are
 * also allowed into envs, so `ssh` with the user's usual key works too.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateEd25519, parsePublicKey } from '../ssh/keys.js';
import { ensureDir, readIfExists, stateError } from '../state/files.js';
import type { StatePaths } from '../state/paths.js';
import { UsageError } from '../errors.js';

export function ensureClientKey(paths: StatePaths): string {
  const existing = readIfExists(paths.clientPublicKey);
  if (existing !== undefined && readIfExists(paths.clientKey) !== undefined) return existing.trim();

  ensureDir(paths.root);
  const pair = generateEd25519(`spoon@${process.env.HOSTNAME ?? 'host'}`);
  // link() is atomic and fails if the target exists: two first runs agree on one key.
  const tmp = `${paths.clientKey}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, pair.privateKey, { mode: 0o600 });
    writeFileSync(`${paths.clientPublicKey}.${process.pid}.tmp`, pair.publicKey + '\n', { mode: 0o644 });
    linkSync(tmp, paths.clientKey);
    linkSync(`${paths.clientPublicKey}.${process.pid}.tmp`, paths.clientPublicKey);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(`cannot write spoon's key ${paths.clientKey}`, err);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${paths.clientPublicKey}.${process.pid}.tmp`, { force: true });
  }
  return readFileSync(paths.clientPublicKey, 'utf8').trim();
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
