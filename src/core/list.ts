/** What `spoon list` and `spoon ports` report, in spoon's terms. */
import type { ContainerInfo, ContainerState, NodeInfo, PortBinding } from '../engine/engine.js';
import { envPortHost } from '../engine/endpoint.js';
import { NoSuchEnvError } from '../errors.js';
import type { Context } from './context.js';
import { findEnv } from './find-env.js';
import { LABEL, envNameOf } from './labels.js';
import { IDLE_FILE, parseIdleFile } from './idle-stop.js';

export interface EnvPort {
  container: number;
  host: number | null;
  hostIp: string | null;
  protocol: 'tcp' | 'udp';
}

export interface EnvSummary {
  name: string;
  state: ContainerState;
  image: string;
  ports: EnvPort[];
  ssh: { host: string; port: number } | null;
  createdAt: string;
  /** The engine's own words for uptime, e.g. "Up 5 minutes". */
  status: string;
  /** idle_stop as set when the env was made (e.g. "2h"), or null when off. */
  idleStop: string | null;
  /** Seconds since anything happened in the env, per its idle watcher (only envs with idle_stop, while running); else null. */
  idleSeconds: number | null;
  /** The cluster node the env is on (swarm backend only; absent on a plain engine). */
  node?: { id: string; hostname: string; addr: string; state: string; availability: string };
}

/**
 * Why an env's node cannot run it now (down, drained, paused), or undefined. spoon never
 * moves such an env: its volumes are on that node.
 */
export function nodeProblem(node: NodeInfo | undefined): string | undefined {
  if (!node) return undefined;
  const which = `node ${node.id.slice(0, 12)}${node.hostname ? ` (${node.hostname}${node.addr ? `, ${node.addr}` : ''})` : ''}`;
  if (node.state !== 'ready') return `${which} is ${node.state}: the env waits for it to come back (its volumes are there)`;
  if (node.availability === 'drain') return `${which} is drained: the env cannot run until it is active again (its volumes are there)`;
  if (node.availability === 'pause') return `${which} is paused: no new task of the env starts there until it is active again`;
  return undefined;
}

export async function listEnvs(ctx: Context): Promise<EnvSummary[]> {
  const engine = await ctx.engine();
  // Warm-pool members waiting to be claimed are no envs (`spoon pool` lists them).
  const containers = (await engine.listContainers({ [LABEL.name]: true })).filter((c) => envNameOf(c) !== undefined);
  const envs = containers.map((c) => summarize(ctx, c));
  // Only envs that stop themselves have a watcher to ask, all at once: list stays one request otherwise.
  await Promise.all(
    containers.map(async (c, i) => {
      const env = envs[i];
      if (!env || !env.idleStop || c.state !== 'running') return;
      env.idleSeconds = parseIdleFile(await engine.readFile(c.id, IDLE_FILE).catch(() => undefined))?.idle ?? null;
    }),
  );
  return envs.sort((a, b) => a.name.localeCompare(b.name));
}

export async function envPorts(ctx: Context, name: string, prefix: string): Promise<EnvSummary> {
  const engine = await ctx.engine();
  const c = await findEnv(engine, name, prefix);
  if (!c) throw new NoSuchEnvError(name);
  return summarize(ctx, c);
}

function summarize(ctx: Context, c: ContainerInfo): EnvSummary {
  const isSsh = (p: PortBinding) => p.container === 22 && p.protocol === 'tcp';
  const ssh = c.ports.find(isSsh);
  return {
    name: envNameOf(c) ?? c.name,
    state: c.state,
    image: c.image,
    ports: c.ports.filter((p) => !isSsh(p)),
    ssh: ssh?.host && c.state === 'running' ? { host: envPortHost(ctx.endpoint, ssh.hostIp ?? '127.0.0.1', c.node), port: ssh.host } : null,
    createdAt: c.createdAt,
    status: nodeProblem(c.node) ?? c.status ?? c.state,
    idleStop: c.labels[LABEL.idleStop] || null,
    idleSeconds: null,
    ...(c.node ? { node: { ...c.node } } : {}),
  };
}
