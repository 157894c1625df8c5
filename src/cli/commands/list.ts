/** `spoon list`: one row per env, or a JSON array. */
import type { Context } from '../../core/context.js';
import { listEnvs } from '../../core/list.js';
import { formatAge, formatPort, printJson, printTable } from '../output.js';
import { formatDuration } from '../../config/duration.js';

export async function listCommand(ctx: Context, flags: { json?: boolean; quiet?: boolean }): Promise<number> {
  const envs = await listEnvs(ctx);
  if (flags.quiet) {
    // For scripts and shell completion: names only, nothing on stderr.
    process.stdout.write(envs.map((e) => `${e.name}\n`).join(''));
    return 0;
  }
  if (flags.json) {
    printJson(envs.map(({ status: _status, ...env }) => env));
    return 0;
  }
  if (envs.length === 0) {
    process.stderr.write('no environments yet; create one with `spoon NAME`\n');
    return 0;
  }
  // A NODE column only where envs run on cluster nodes (the swarm backend).
  const nodes = envs.some((e) => e.node);
  printTable(
    ['NAME', 'STATE', ...(nodes ? ['NODE'] : []), 'IMAGE', 'SSH', 'PORTS', 'CREATED', 'IDLE', 'STATUS'],
    envs.map((e) => [
      e.name,
      e.state,
      ...(nodes ? [e.node ? `${e.node.id.slice(0, 12)}${e.node.hostname ? ` (${e.node.hostname})` : ''}` : '-'] : []),
      e.image,
      e.ssh ? `${e.ssh.host}:${e.ssh.port}` : '-',
      e.ports.map(formatPort).join(', ') || '-',
      formatAge(e.createdAt),
      // How long idle, of how long it may be: "5m/2h"; "-" for envs that do not stop themselves.
      e.idleStop ? `${e.idleSeconds === null ? '?' : formatDuration(e.idleSeconds)}/${e.idleStop}` : '-',
      e.status,
    ]),
  );
  return 0;
}
