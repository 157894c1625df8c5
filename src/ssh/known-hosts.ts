/**
 * Pinned host keys. spoon connects with HostKeyAlias=spoon-NAME, so the pin does
 * not depend on which host or port the env is published on today.
 */
import { parsePublicKey } from './keys.js';

export function hostAlias(name: string): string {
  return `spoon-${name}`;
}

export function knownHostsLine(alias: string, hostPublicKey: string): string {
  const key = parsePublicKey(hostPublicKey);
  if (!key) throw new Error(`not an OpenSSH public key: ${hostPublicKey.slice(0, 40)}`);
  return `${alias} ${key.type} ${key.blob}\n`;
}
