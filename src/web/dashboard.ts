/**
 * What `spoon ui`'s dashboard shows: `spoon list` (core/list.ts) with, for each running
 * env, who is attached (the `who` logic) and how long its session has been idle. Only
 * reads: nothing is started, joined or changed.
 */
import type { Context } from '../core/context.js';
import { runEngineCaptured } from '../core/engine-session.js';
import { LABEL, envNameOf } from '../core/labels.js';
import { listEnvs, type EnvSummary } from '../core/list.js';
import { attachedNow } from '../pairing/guests.js';
import type { DashboardEnv } from './pages.js';

export async function dashboardEnvs(ctx: Context): Promise<DashboardEnv[]> {
  const engine = await ctx.engine();
  const [envs, containers] = await Promise.all([listEnvs(ctx), engine.listContainers({ [LABEL.name]: true })]);
  // By env name as list gives it (envNameOf: a claimed pool env's label names its member).
  const byName = new Map(containers.map((c) => [envNameOf(c), c]));
  return Promise.all(
    envs.map(async (e: EnvSummary & { node?: unknown }) => {
      const c = byName.get(e.name);
      const watchable = !!c && c.state === 'running' && c.labels[LABEL.connect] === 'ssh';
      const [attached, idle] = watchable && c ? await Promise.all([attachedNow(engine, c), sessionIdle(c.id, c.labels[LABEL.user], c.labels[LABEL.session])]) : [[], null];
      return {
        name: e.name,
        state: e.state,
        image: e.image,
        node: nodeName(e.node),
        ports: e.ports.map((p) => `${p.container}/${p.protocol} -> ${p.hostIp ?? ''}:${p.host ?? ''}`),
        ssh: e.ssh ? `${e.ssh.host}:${e.ssh.port}` : null,
        attached: attached.map((a) => ({ person: a.person, role: a.role === 'viewer' ? 'web viewer' : a.role, readOnly: a.readOnly })),
        idleSeconds: e.idleSeconds ?? idle,
        idleStop: e.idleStop,
        watchable,
      };
    }),
  );

  /** Seconds since the shared session last saw activity, by the env's own clock. */
  async function sessionIdle(id: string, user: string | undefined, session: string | undefined): Promise<number | null> {
    if (!user || !session) return null;
    const script = 'a=$(tmux -S /run/spoon/tmux.sock display-message -p -t "=$0:" "#{session_activity}" 2>/dev/null) && [ -n "$a" ] && echo $(( $(date +%s) - a ))';
    const r = await runEngineCaptured(engine, id, ['sh', '-c', script, session], { user }).catch(() => undefined);
    const s = r?.code === 0 ? Number(r.stdout.trim()) : NaN;
    return Number.isFinite(s) && s >= 0 ? s : null;
  }
}

/** A Swarm env's node (`list --json`'s `node`: {id, hostname, addr}), by its hostname; null elsewhere. */
function nodeName(node: unknown): string | null {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object') {
    const n = node as { hostname?: unknown; id?: unknown };
    if (typeof n.hostname === 'string' && n.hostname) return n.hostname;
    if (typeof n.id === 'string' && n.id) return n.id;
  }
  return null;
}
