/**
 * What spoon remembers about an env between runs, so `exec`/attach to a running
 * env can go straight to ssh without asking the engine. It is a cache: the pinned
 * host key makes a stale entry fail safely, and the engine is the truth.
 */
import { readIfExists, writeAtomic } from './files.js';
import { rmSync } from 'node:fs';

export interface EnvState {
  containerId: string;
  engineUrl: string;
  sshHost: string;
  sshPort: number;
  user: string;
  /** The settings the cache was written under; a different hash skips the fast path. */
  configHash: string;
}

/**
 * The cached state, or undefined. A damaged file is removed and reported through
 * `onCorrupt`: it is only a cache, and the next connect rebuilds it from the engine.
 */
export function readEnvState(path: string, onCorrupt?: (path: string) => void): EnvState | undefined {
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<EnvState>;
    const strings = [parsed.containerId, parsed.engineUrl, parsed.sshHost, parsed.user, parsed.configHash];
    if (strings.every((v) => typeof v === 'string' && v !== '') && Number.isInteger(parsed.sshPort)) return parsed as EnvState;
  } catch {
    // fall through: damaged
  }
  onCorrupt?.(path);
  forgetEnvState(path);
  return undefined;
}

export function writeEnvState(path: string, state: EnvState): void {
  writeAtomic(path, JSON.stringify(state, null, 2) + '\n');
}

export function forgetEnvState(path: string): void {
  rmSync(path, { force: true });
}
