/**
 * `spoon doctor`: checks what spoon depends on and says how to fix each problem.
 * Every check runs even when an earlier one fails.
 */
import { statSync } from 'node:fs';
import { defaultImageTag } from '../images/default-image.js';
import { runCaptured } from '../ssh/spawn.js';
import { describeCause } from '../errors.js';
import type { Context } from './context.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export async function runDoctor(ctx: Context): Promise<Check[]> {
  return Promise.all([checkEngine(ctx), checkSshClient(), checkClientKey(ctx), checkDefaultImage(ctx)]);
}

async function checkEngine(ctx: Context): Promise<Check> {
  try {
    const engine = await ctx.engine();
    return { name: 'engine', ok: true, detail: `${await engine.describe()} at ${ctx.endpoint.url}` };
  } catch (err) {
    return {
      name: 'engine',
      ok: false,
      detail: describeCause(err),
      fix: 'start Docker (or `podman system service`), or point --engine / DOCKER_HOST at a running engine',
    };
  }
}

async function checkSshClient(): Promise<Check> {
  try {
    const { code, stderr } = await runCaptured(['-V']);
    if (code !== 0) throw new Error(stderr.trim());
    return { name: 'ssh client', ok: true, detail: stderr.trim() };
  } catch (err) {
    return { name: 'ssh client', ok: false, detail: describeCause(err), fix: 'install OpenSSH (Debian/Ubuntu: apt-get install openssh-client)' };
  }
}

async function checkClientKey(ctx: Context): Promise<Check> {
  try {
    const mode = statSync(ctx.paths.clientKey).mode & 0o777;
    if (mode & 0o077) {
      return { name: 'client key', ok: false, detail: `${ctx.paths.clientKey} has mode ${mode.toString(8)}`, fix: `chmod 600 ${ctx.paths.clientKey}` };
    }
    return { name: 'client key', ok: true, detail: `${ctx.paths.clientKey} (mode 600)` };
  } catch {
    return { name: 'client key', ok: true, detail: `not made yet; spoon makes ${ctx.paths.clientKey} on first use` };
  }
}

async function checkDefaultImage(ctx: Context): Promise<Check> {
  const tag = defaultImageTag();
  try {
    const engine = await ctx.engine();
    const img = await engine.inspectImage(tag);
    return img
      ? { name: 'default image', ok: true, detail: `${tag} is built` }
      : { name: 'default image', ok: true, detail: `${tag} is not built yet; the first \`spoon up\` builds it (about 30 s)` };
  } catch (err) {
    return { name: 'default image', ok: false, detail: `cannot check: ${describeCause(err)}` };
  }
}
