/**
 * Where spoon keeps its own files: $XDG_STATE_HOME/spoon (default ~/.local/state/spoon).
 * Secrets under it are 0600 and its folders 0700.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface StatePaths {
  root: string;
  clientKey: string;
  clientPublicKey: string;
  envDir(name: string): string;
  knownHosts(name: string): string;
  envState(name: string): string;
  sshLog(name: string): string;
  /** Present while a snapshot holds the env paused; one left behind (spoon killed) sends the next connect to the engine, which resumes it. */
  pausedMarker(name: string): string;
  /** Folder of `spoon forward` records, one file per running forward process. */
  forwardsDir(name: string): string;
  lock(name: string): string;
  /** Marks an image (by id) as checked to have sshd, tmux and the user. */
  imageFits(imageId: string, user: string): string;
  /** Short enough for a unix socket path (108 bytes), and unique per container. */
  controlPath(name: string, containerId: string): string;
}

export function statePaths(env: { XDG_STATE_HOME?: string | undefined; HOME?: string | undefined }): StatePaths {
  const base = env.XDG_STATE_HOME || join(env.HOME || '/tmp', '.local', 'state');
  const root = join(base, 'spoon');
  const envDir = (name: string) => join(root, 'envs', name);
  return {
    root,
    clientKey: join(root, 'id_ed25519'),
    clientPublicKey: join(root, 'id_ed25519.pub'),
    envDir,
    knownHosts: (name) => join(envDir(name), 'known_hosts'),
    envState: (name) => join(envDir(name), 'state.json'),
    sshLog: (name) => join(envDir(name), 'ssh.log'),
    pausedMarker: (name) => join(envDir(name), 'paused'),
    forwardsDir: (name) => join(envDir(name), 'forwards'),
    lock: (name) => join(root, 'locks', `${name}.lock`),
    imageFits: (imageId, user) => join(root, 'images', `${imageId.replace(/^sha256:/, '')}.${user}.ok`),
    controlPath: (name, containerId) =>
      join(root, 'cm', createHash('sha256').update(`${name}\0${containerId}`).digest('hex').slice(0, 16)),
  };
}
