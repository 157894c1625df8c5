/**
 * `spoon config [NAME]`: the effective value of every key and where it came from.
 * `spoon config import FILE`: docker-spoon's ~/.spoonrc as spoon TOML, on stdout.
 */
import { readFileSync } from 'node:fs';
import type { Context } from '../../core/context.js';
import { validateName } from '../../core/names.js';
import { KEY_NAMES, formatDuration, type EnvOptions, type KeyName } from '../../config/schema.js';
import { resolveOptions } from '../../config/layers.js';
import { importSpoonrc } from '../../config/spoonrc-import.js';
import { parse as parseToml } from 'smol-toml';
import { UsageError, describeCause } from '../../errors.js';
import { resolveSettings } from '../settings.js';
import { printJson, printTable } from '../output.js';

export async function configCommand(ctx: Context, name: string | undefined, flags: Record<string, unknown>): Promise<number> {
  if (name !== undefined) validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  if (flags.json) {
    printJson({
      name: name ?? null,
      devcontainer: settings.devcontainer?.file ?? null,
      files: [...new Set(settings.layers.filter((l) => l.kind.endsWith('file') || l.kind === 'devcontainer').map((l) => l.origin))],
      keys: Object.fromEntries(KEY_NAMES.map((k) => [k, { value: settings.options[k] ?? null, source: settings.sources[k].kind, where: settings.sources[k].where }])),
    });
    return 0;
  }
  for (const w of settings.devcontainer?.warnings ?? []) ctx.report.warn(`${settings.devcontainer?.file}: ${w}`);
  printTable(
    ['KEY', 'VALUE', 'FROM'],
    KEY_NAMES.map((k) => [k, display(k, settings.options), settings.sources[k].kind === 'default' ? 'default' : settings.sources[k].where.replace(/: [a-z_]+$/, '')]),
  );
  return 0;
}

export async function configImportCommand(ctx: Context, file: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${describeCause(err)}`);
  }
  const { toml, skipped } = importSpoonrc(text);
  process.stdout.write(toml);
  for (const s of skipped) ctx.report.warn(`${file}:${s.line}: not converted: ${s.why}`, s.text.trim());
  // Say now if the result would not load, rather than at the next `spoon up`.
  try {
    resolveOptions([{ kind: 'config file', origin: file, baseDir: process.cwd(), where: (k) => `converted ${k}`, values: parseToml(toml) }], ctx.env.HOME ?? '/');
  } catch (err) {
    ctx.report.warn(`the converted config does not load as it is: ${describeCause(err)}`, 'edit that value after saving the file');
  }
  ctx.report.info(`save it as ${ctx.env.XDG_CONFIG_HOME || '~/.config'}/spoon/config.toml (your settings) or spoon.toml (a project's)`);
  return 0;
}

/** A value the way a user would write it. */
function display(key: KeyName, o: EnvOptions): string {
  const v = o[key];
  if (v === undefined) return key === 'image' ? "(spoon's default image)" : '-';
  switch (key) {
    case 'ports':
      return o.ports.map((p) => `${p.host !== undefined ? `${p.host}:` : ''}${p.container}${p.protocol === 'udp' ? '/udp' : ''}`).join(', ') || '-';
    case 'forwards':
      return o.forwards.map((f) => (f.localPort === f.remotePort ? `${f.localPort}` : `${f.localPort}:${f.remotePort}`)).join(', ') || '-';
    case 'volumes':
      return o.volumes.map((m) => `${m.source}${m.source ? ':' : ''}${m.target}${m.readOnly ? ':ro' : ''}`).join(', ') || '-';
    case 'copy':
      return o.copy.map((c) => `${c.from} -> ${c.to}`).join(', ') || '-';
    case 'idle_stop':
      return formatDuration(o.idle_stop ?? 0);
    case 'memory':
      return `${Math.round((o.memory ?? 0) / 1024 ** 2)}m`;
    case 'env':
    case 'labels':
      return Object.entries(o[key]).map(([k, val]) => `${k}=${val}`).join(', ') || '-';
    default:
      return Array.isArray(v) ? v.join(', ') || '-' : String(v);
  }
}

