/**
 * Configuration comes in layers, merged key by key, later wins:
 * built-in defaults < user file < project file (or devcontainer.json) < --config FILE
 * < SPOON_<KEY> variables < flags. A file's [env.NAME] table is a layer right
 * after that file. Every layer is validated in full, so a bad value is reported
 * even where a later layer overrides it; the winning layer of each key is kept
 * for `spoon config`.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { KEYS, KEY_NAMES, defaultOptions, isKeyName, parseKey, type EnvOptions, type KeyName } from './schema.js';

export type SourceKind = 'default' | 'user file' | 'project file' | 'devcontainer' | 'config file' | 'env var' | 'flag';

export interface Layer {
  kind: SourceKind;
  /** A file path, "SPOON_* variables" or "command line". */
  origin: string;
  /** Relative host paths in this layer are resolved against it. */
  baseDir: string;
  /** Where a key's value sits, for errors: `/p/spoon.toml:12: ports`, `--publish`, `SPOON_USER`. */
  where(key: string): string;
  values: Record<string, unknown>;
}

export interface Provenance {
  kind: SourceKind;
  origin: string;
  /** Where the value was set: `path:line: key`, `--flag`, `SPOON_KEY` or 'built-in default'. */
  where: string;
}

export interface ResolvedOptions {
  options: EnvOptions;
  sources: Record<KeyName, Provenance>;
}

export function resolveOptions(layers: Layer[], home: string): ResolvedOptions {
  const options = defaultOptions();
  const sources = Object.fromEntries(KEY_NAMES.map((k) => [k, { kind: 'default', origin: 'built-in', where: 'built-in default' }])) as Record<KeyName, Provenance>;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (value === undefined) continue;
      if (!isKeyName(key)) throw new UsageError(`${layer.where(key)}: unknown key '${key}'`, { hint: `known keys: ${KEY_NAMES.join(', ')}` });
      const parsed = parseKey(key, value, { where: layer.where(key), baseDir: layer.baseDir, home });
      (options as unknown as Record<string, unknown>)[key] = parsed;
      sources[key] = { kind: layer.kind, origin: layer.origin, where: layer.where(key) };
    }
  }
  return { options, sources };
}

/** The SPOON_<KEY> layer: `SPOON_CPU_SHARES=512`, lists comma-separated (`SPOON_PORTS=3000,8080:80`). */
export function envVarLayer(env: Record<string, string | undefined>, cwd: string): Layer {
  const values: Record<string, unknown> = {};
  for (const key of KEY_NAMES) {
    const v = env[envVarName(key)];
    if (v !== undefined && v !== '') values[key] = v;
  }
  return { kind: 'env var', origin: 'SPOON_* variables', baseDir: cwd, where: (k) => envVarName(k), values };
}

export function envVarName(key: string): string {
  return `SPOON_${key.toUpperCase()}`;
}

/** What an env was created with; stored as a label so a later change can be noticed. */
export function configHash(o: EnvOptions, extra?: unknown): string {
  // Order-free where order does not matter: `-p 1 -p 2` and `-p 2 -p 1` create the same env.
  const relevant: Record<string, unknown> = {};
  for (const key of KEY_NAMES) {
    if (!KEYS[key].creation) continue;
    const value = o[key];
    // A key added later counts only when set, so envs made before it keep their hash.
    if ((key === 'idle_stop' || key === 'node') && value === undefined) continue;
    if (key === 'ports') relevant[key] = o.ports.map((p) => `${p.host ?? ''}:${p.container}/${p.protocol}`).sort();
    else if (key === 'labels' || key === 'env') relevant[key] = Object.entries(value as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));
    else relevant[key] = value ?? null;
  }
  if (extra !== undefined) relevant['(more)'] = extra;
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

/** Some setting that only matters at creation came from somewhere other than the defaults. */
export function hasCreationSettings(r: ResolvedOptions): boolean {
  return KEY_NAMES.some((k) => KEYS[k].creation && r.sources[k].kind !== 'default');
}
