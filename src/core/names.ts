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

/** A valid hostname for the container: NAME with characters hostnames forbid replaced. */
export function hostnameFor(name: string): string {
  return name.replace(/[_.]/g, '-').replace(/-+$/, '') || 'spoon';
}
