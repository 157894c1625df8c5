/** `spoon ssh-config [NAME] [--write]` and the hidden `spoon proxy NAME` it points at. */
import { join } from 'node:path';
import type { Context } from '../../core/context.js';
import { proxyToEnv, sshConfigBlock, sshConfigEntries } from '../../core/ssh-config.js';
import { planEnv } from '../../core/plan.js';
import { validateName } from '../../core/names.js';
import { NoSuchEnvError } from '../../errors.js';
import { writeAtomic } from '../../state/files.js';
import { ensureClientKey } from '../../core/client-keys.js';
import { shellQuote } from '../../ssh/args.js';
import { resolveSettings } from '../settings.js';

export async function sshConfigCommand(ctx: Context, name: string | undefined, flags: Record<string, unknown>): Promise<number> {
  if (name !== undefined) validateName(name);
  const entries = await sshConfigEntries(ctx, name);
  if (name !== undefined && entries.length === 0) throw new NoSuchEnvError(name);
  // ssh reads IdentityFile when it starts, before the proxy joins the env (authorizes the
  // key and pins the host key through the engine): the key must be there already.
  ensureClientKey(ctx.paths, ctx.env);
  // The same node and spoon that run now, and the same engine, whatever PATH says later.
  const engineFlag = flags.engine ?? flags.url;
  const base = [
    process.execPath,
    process.argv[1] ?? 'spoon',
    ...(typeof engineFlag === 'string' ? ['--engine', engineFlag] : []),
    ...(typeof flags.backend === 'string' ? ['--backend', flags.backend] : []),
  ];
  const text = entries.map((e) => sshConfigBlock(ctx, e, shellQuote([...base, 'proxy', e.name]))).join('\n');
  if (flags.write) {
    const file = join(ctx.paths.root, 'ssh_config');
    writeAtomic(file, `# Written by spoon ssh-config --write; rewritten each time.\n\n${text}`, 0o600);
    ctx.report.info(`wrote ${file}; add this line at the top of ~/.ssh/config:\nInclude ${file}`);
    return 0;
  }
  process.stdout.write(text);
  return 0;
}

export async function proxyCommand(ctx: Context, name: string, flags: Record<string, unknown>): Promise<number> {
  validateName(name);
  const settings = await resolveSettings(flags, ctx.env, process.cwd(), name);
  return proxyToEnv(ctx, name, planEnv(settings.options, settings.devcontainer));
}
