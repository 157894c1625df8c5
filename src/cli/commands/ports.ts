/** `spoon ports NAME`: `container -> host:port` per published port, ssh included. */
import type { Context } from '../../core/context.js';
import { envPorts } from '../../core/list.js';
import { activeForwards } from '../../core/forward.js';
import { validateName } from '../../core/names.js';
import { resolveSettings } from '../settings.js';
import { formatPort, printJson } from '../output.js';

export async function portsCommand(ctx: Context, name: string, flags: { json?: boolean }): Promise<number> {
  validateName(name);
  const { options } = await resolveSettings({}, ctx.env, process.cwd(), name);
  const env = await envPorts(ctx, name, options.prefix);
  const forwards = activeForwards(ctx, name);
  if (flags.json) {
    printJson({ name: env.name, state: env.state, ports: env.ports, ssh: env.ssh, forwards });
    return 0;
  }
  const lines = [
    env.ssh ? `22/tcp (ssh) -> ${env.ssh.host}:${env.ssh.port}` : `22/tcp (ssh) -> - (${env.state})`,
    ...env.ports.map(formatPort),
    ...forwards.map((f) => `${f.remotePort}/tcp (spoon forward, pid ${f.pid}) -> ${f.bindAddress}:${f.localPort}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
