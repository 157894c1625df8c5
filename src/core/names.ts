/** Name rules (SPEC "Words") and the engine object names derived from a NAME. */
import { UsageError } from '../errors.js';

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new UsageError(`invalid environment name '${name}': use 1-63 of a-z 0-9 _ . - starting with a letter or digit`, {
      hint: 'for example: spoon up my-env',
    });
  }
  return name;
}

export function containerName(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** The named volume that holds the login user's home (kept across destroy). */
export function homeVolumeName(name: string): string {
  return `spoon-${name}-home`;
}

/** The named volume for a `persist` path: the home's, or `spoon-NAME-<slug of the path>`. */
export function persistVolumeName(name: string, path: string): string {
  if (path === '~') return homeVolumeName(name);
  const slug = path.replace(/^~\//, 'home-').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
  return `spoon-${name}-${slug}`;
}

/** The slug of a persist path in volume names: `home` for `~`, `home-x` for `~/x`, `opt-data` for /opt/data. */
function persistSlug(path: string): string {
  if (path === '~') return 'home';
  return path.replace(/^~\//, 'home-').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
}

/** The volume that holds a snapshot's copy of a persist path: `spoon-snap-NAME-TAG-<slug>`. */
export function snapshotVolumeName(name: string, tag: string, path: string): string {
  return `spoon-snap-${name}-${tag}-${persistSlug(path) || 'root'}`;
}

/** The image repository of NAME's snapshots: `spoon-snapshot/NAME`, NAME made a valid repository component. */
export function snapshotRepo(name: string): string {
  const component = name.replace(/[._-]{2,}/g, (m) => (m === '__' ? m : '-')).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'env';
  return `spoon-snapshot/${component}`;
}

const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validateTag(tag: string): string {
  if (!TAG_RE.test(tag)) {
    throw new UsageError(`invalid snapshot tag '${tag}': use 1-128 of A-Z a-z 0-9 _ . - not starting with . or -`, { hint: 'for example: spoon snapshot my-env before-upgrade' });
  }
  return tag;
}

/** `NAME:TAG` → its parts; anything else is a usage error. */
export function parseSnapshotRef(ref: string): { name: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at <= 0 || at === ref.length - 1) {
    throw new UsageError(`invalid snapshot '${ref}': expected NAME:TAG`, { hint: 'list snapshots with `spoon snapshots`' });
  }
  return { name: validateName(ref.slice(0, at)), tag: validateTag(ref.slice(at + 1)) };
}

/** A valid hostname for the container: NAME with characters hostnames forbid replaced. */
export function hostnameFor(name: string): string {
  return name.replace(/[_.]/g, '-').replace(/-+$/, '') || 'spoon';
}
