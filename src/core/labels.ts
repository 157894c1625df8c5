/**
 * The labels that mark a container or volume as spoon's. spoon lists and touches
 * only what carries LABEL.name; it never finds envs by parsing container names, and
 * names by them only an env claimed from the warm pool (envNameOf: its labels were
 * fixed before its NAME was known).
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
  /**
   * On warm-pool members (containers and volumes): the member's own container name. A
   * container still named so waits in the pool; one renamed is an env claimed from it.
   */
  pool: 'dev.spoon.pool',
  /** On pool members: the container name prefix of their configuration (a claimed env's NAME is its container name without it). */
  prefix: 'dev.spoon.prefix',
  /** On the label-only volume `spoon-NAME-_pool-ref`: the pool member whose volumes are NAME's. */
  poolRef: 'dev.spoon.pool-ref',
} as const;

/**
 * The env NAME a container is, or undefined for a pool member still waiting. Labels cannot
 * change after creation, so an env claimed from the pool is named by its container name
 * (the rename is the claim); every other env by its name label.
 */
export function envNameOf(c: { name: string; labels: Record<string, string> }): string | undefined {
  const member = c.labels[LABEL.pool];
  if (!member) return c.labels[LABEL.name];
  if (c.name === member) return undefined;
  const prefix = c.labels[LABEL.prefix] ?? '';
  return c.name.startsWith(prefix) ? c.name.slice(prefix.length) : c.name;
}

/** Whose names NAME's volumes carry: NAME's own, or (an env claimed from the pool) the member's it took over. */
export function volumeOwnerOf(c: { labels: Record<string, string> }): string | undefined {
  return c.labels[LABEL.pool] ? c.labels[LABEL.name] : undefined;
}

declare const SPOON_VERSION: string;
export const spoonVersion: string = typeof SPOON_VERSION === 'string' ? SPOON_VERSION : '0.0.0-dev';
