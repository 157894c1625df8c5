/**
 * The labels that mark a container or volume as spoon's. spoon lists and touches
 * only what carries LABEL.name; it never finds envs by parsing container names.
 */
export const LABEL = {
  name: 'dev.spoon.name',
  version: 'dev.spoon.version',
  configHash: 'dev.spoon.config-hash',
  /** The whole EnvPlan the container was made from (JSON), so healing recreates it the same way. */
  plan: 'dev.spoon.plan',
  user: 'dev.spoon.user',
  session: 'dev.spoon.session',
  /** Who made the env (their identity, as `who` names people): `who` calls them the owner. */
  creator: 'dev.spoon.creator',
  /** How spoon enters the env: `ssh` (its own sshd) or `exec` (the engine's exec; the image has no sshd). */
  connect: 'dev.spoon.connect',
  /** `yes` when the image has tmux (exec mode attaches to it). */
  tmux: 'dev.spoon.tmux',
  /** The env stops itself after this long idle (idle_stop, e.g. `2h`); absent when off. */
  idleStop: 'dev.spoon.idle-stop',
  /** On persist volumes: the container path the volume holds. */
  persist: 'dev.spoon.persist',
  /** On snapshot images and volumes: `NAME:TAG`. */
  snapshot: 'dev.spoon.snapshot',
  /** On snapshot images: the env they were taken of. */
  snapshotOf: 'dev.spoon.snapshot-of',
  /** On the short-lived, never started containers spoon copies volumes through. */
  temporary: 'dev.spoon.temporary',
  /** On images spoon built itself. */
  builtImage: 'dev.spoon.built',
} as const;

declare const SPOON_VERSION: string;
export const spoonVersion: string = typeof SPOON_VERSION === 'string' ? SPOON_VERSION : '0.0.0-dev';
