/**
 * The swarm backend against the real two-node cluster of scripts/setup-swarm.sh
 * (manager /tmp/swarm/d1, worker /tmp/swarm/d2, each a dockerd in its own network
 * namespace). spoon talks to the manager only; the tests use each node's own socket
 * to look and to break things (kill a task's container on its node).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, apiAt, host, waitFor, type RunOptions } from './harness.js';

const MANAGER = '/tmp/swarm/d1/docker.sock';
const WORKER = '/tmp/swarm/d2/docker.sock';

const box = new Sandbox();
const home2 = join(box.dir, 'home2');
const state2 = join(box.dir, 'state2');
const swarmEnv = { DOCKER_HOST: `unix://${MANAGER}`, SPOON_BACKEND: 'swarm' };
const spoon = (args: string[], opts: RunOptions = {}) => box.spoon(args, { ...opts, env: { ...swarmEnv, ...opts.env } });
/** The second person: their own HOME, state and keys, the same manager. */
const spoon2 = (args: string[]) => spoon(args, { env: { HOME: home2, XDG_STATE_HOME: state2 } });
const name = box.name('sw');

interface ApiNode {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown> & { Availability: string };
  ManagerStatus?: unknown;
}
interface ApiTask {
  ID: string;
  DesiredState: string;
  CreatedAt: string;
  NodeID?: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}
interface ListedEnv {
  name: string;
  state: string;
  ssh: { host: string; port: number } | null;
  status?: string;
  node?: { id: string; hostname: string; addr: string };
}

let workerId = '';

async function nodes(): Promise<ApiNode[]> {
  return (await apiAt<ApiNode[]>(MANAGER, 'GET', '/nodes')).body ?? [];
}

/** The task Swarm runs for the env now. */
async function runningTask(): Promise<ApiTask | undefined> {
  const filters = encodeURIComponent(JSON.stringify({ service: [`spoon-${name}`], 'desired-state': ['running'] }));
  const tasks = (await apiAt<ApiTask[]>(MANAGER, 'GET', `/tasks?filters=${filters}`)).body ?? [];
  return tasks.find((t) => t.Status.State === 'running');
}

async function setAvailability(id: string, availability: string): Promise<void> {
  const n = (await apiAt<ApiNode>(MANAGER, 'GET', `/nodes/${id}`)).body;
  assert.ok(n, `node ${id}`);
  const r = await apiAt(MANAGER, 'POST', `/nodes/${id}/update?version=${n.Version.Index}`, { ...n.Spec, Availability: availability });
  assert.equal(r.status, 200, `node update: ${JSON.stringify(r.body)}`);
}

async function listed(): Promise<ListedEnv | undefined> {
  const r = await spoon(['list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as ListedEnv[]).find((e) => e.name === name);
}

/** Removes this run's services, configs and secrets from the manager and its volumes from both nodes. */
async function cleanup(): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ label: [box.label] }));
  const services = (await apiAt<{ ID: string }[]>(MANAGER, 'GET', `/services?filters=${filters}`)).body ?? [];
  await Promise.all(services.map((s) => apiAt(MANAGER, 'DELETE', `/services/${s.ID}`)));
  for (let i = 0; i < 40; i++) {
    const configs = (await apiAt<{ ID: string; Spec: { Name: string } }[]>(MANAGER, 'GET', '/configs')).body ?? [];
    const secrets = (await apiAt<{ ID: string; Spec: { Name: string } }[]>(MANAGER, 'GET', '/secrets')).body ?? [];
    const ours = [...configs.map((c) => ['configs', c] as const), ...secrets.map((c) => ['secrets', c] as const)].filter(([, c]) => c.Spec.Name.startsWith(`spoon-${name}-`));
    if (ours.length === 0) break;
    await Promise.all(ours.map(([kind, c]) => apiAt(MANAGER, 'DELETE', `/${kind}/${c.ID}`)));
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const sock of [MANAGER, WORKER]) {
    const containers = (await apiAt<{ Id: string }[]>(sock, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=spoon-${name}`] }))}`)).body ?? [];
    await Promise.all(containers.map((c) => apiAt(sock, 'DELETE', `/containers/${c.Id}?force=1`)));
    const volumes = (await apiAt<{ Volumes: { Name: string }[] | null }>(sock, 'GET', '/volumes')).body?.Volumes ?? [];
    await Promise.all(volumes.filter((v) => v.Name.startsWith(`spoon-${name}-`)).map((v) => apiAt(sock, 'DELETE', `/volumes/${v.Name}`)));
  }
}

before(async () => {
  const info = await apiAt<{ Swarm?: { ControlAvailable?: boolean } }>(MANAGER, 'GET', '/info').catch(() => undefined);
  if (!info?.body?.Swarm?.ControlAvailable) throw new Error(`no swarm manager answers on ${MANAGER}: run scripts/setup-swarm.sh (as root) first`);
  const worker = (await nodes()).find((n) => !n.ManagerStatus);
  assert.ok(worker, 'the swarm has a worker node');
  workerId = worker.ID;
  mkdirSync(home2, { recursive: true });
});

after(async () => {
  host('ip', ['link', 'set', 'vsw2', 'up']);
  if (workerId) await setAvailability(workerId, 'active').catch(() => undefined);
  await cleanup();
  await box.cleanup();
});

describe('the swarm backend', { concurrency: false }, () => {
  test('backend = "swarm" against an engine that is no swarm manager says so', async () => {
    const r = await box.spoon(['list'], { env: { SPOON_BACKEND: 'swarm' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is not a Swarm manager/);
    // From a config file too.
    const file = join(box.dir, 'swarm.toml');
    writeFileSync(file, 'backend = "swarm"\n');
    const fromFile = await box.spoon(['list', '--config', file]);
    assert.equal(fromFile.code, 1, fromFile.stderr);
    assert.match(fromFile.stderr, /is not a Swarm manager/);
    const bad = await box.spoon(['list', '--backend', 'kubernetes']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--backend: invalid value 'kubernetes'/);
  });

  test('an env placed on the worker is reached from the host: exec, list --json with its node, ssh through ssh-config', async () => {
    const up = await spoon(['up', name, '-N', '--label', box.label, '--node', workerId]);
    assert.equal(up.code, 0, up.stderr);
    const env = await listed();
    assert.equal(env?.state, 'running');
    assert.equal(env?.node?.id, workerId);
    assert.equal(env?.node?.addr, '10.77.0.2');
    assert.equal(env?.ssh?.host, '10.77.0.2');
    // The task's container is on the worker's own engine, not the manager's.
    const task = await runningTask();
    assert.equal(task?.NodeID, workerId);
    const onWorker = await apiAt(WORKER, 'GET', `/containers/${task?.Status.ContainerStatus?.ContainerID}/json`);
    assert.equal(onWorker.status, 200);

    const exec = await spoon(['exec', name, '--', 'sh', '-c', 'echo kept > ~/data; id -un']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, 'dev\n');

    const table = await spoon(['list']);
    assert.match(table.stdout, /^NAME\s+STATE\s+NODE\s+IMAGE/);
    const config = await spoon(['config']);
    assert.match(config.stdout, /^backend\s+swarm\s+SPOON_BACKEND$/m);

    // What an editor or `ssh` does: the ssh-config block, through `spoon proxy`.
    const cfg = await spoon(['ssh-config', name, '--engine', `unix://${MANAGER}`, '--backend', 'swarm']);
    assert.equal(cfg.code, 0, cfg.stderr);
    const file = join(box.dir, 'ssh_config');
    writeFileSync(file, cfg.stdout);
    const ssh = host('ssh', ['-F', file, `spoon-${name}`, 'cat ~/data'], undefined, box.env(swarmEnv));
    assert.equal(ssh.stdout, 'kept\n', ssh.stderr);
  });

  test('a second person joins without a task restart and pairs in the same env', async () => {
    const before = await runningTask();
    const r = await spoon2(['exec', name, '--', 'sh', '-c', 'echo "$SPOON_WHO"; cat ~/data']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kept\n$/);
    assert.equal((await runningTask())?.ID, before?.ID, 'the task was not replaced');
    const who = await spoon2(['who', name]);
    assert.equal(who.code, 0, who.stderr);
    // One tmux session, both people in it: the first makes it, the second types into it.
    const tmux = ['tmux', '-S', '/run/spoon/tmux.sock'];
    assert.equal((await spoon(['exec', name, '--', ...tmux, 'new-session', '-d', '-s', 'pair'])).code, 0);
    assert.equal((await spoon2(['exec', name, '--', ...tmux, 'send-keys', '-t', 'pair', 'echo typed-by-two > ~/two', 'Enter'])).code, 0);
    const seen = await waitFor('the keys to reach the shared session', async () => {
      const r = await spoon(['exec', name, '--', 'sh', '-c', 'cat ~/two 2>/dev/null || true']);
      return r.stdout.trim() || undefined;
    });
    assert.equal(seen, 'typed-by-two');
  });

  test('a guest is shared and unshared without a task restart', async () => {
    const before = await runningTask();
    const key = join(box.dir, 'guest');
    host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob@test', '-f', key]);
    const shared = await spoon(['share', name, '--key', `${key}.pub`, '--as', 'bob', '--json']);
    assert.equal(shared.code, 0, shared.stderr);
    const s = JSON.parse(shared.stdout) as { host: string; port: number; user: string; knownHosts: string };
    assert.equal(s.host, '10.77.0.2');
    assert.equal((await spoon(['exec', name, '--', 'id', '-u', 'spoon-guest-bob'])).code, 0, 'the guest account exists');
    // The guest logs in with plain ssh and their own key (the owner has no tmux session yet: ssh ends at once).
    const knownHosts = join(box.dir, 'bob.known_hosts');
    writeFileSync(knownHosts, `${s.knownHosts}\n`);
    const opts = ['-F', 'none', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', `HostKeyAlias=spoon-${name}`, '-p', String(s.port)];
    const login = host('ssh', [...opts, `${s.user}@${s.host}`]);
    // Authenticated: ssh's own failures exit 255 ("Permission denied" when the key is not let in).
    assert.notEqual(login.code, 255, `the guest authenticates: ${login.stderr}`);

    const un = await spoon(['unshare', name, 'bob']);
    assert.equal(un.code, 0, un.stderr);
    const denied = host('ssh', [...opts, `${s.user}@${s.host}`]);
    assert.equal(denied.code, 255);
    assert.match(denied.stderr, /Permission denied/);
    assert.equal((await runningTask())?.ID, before?.ID, 'the task was not replaced');
  });

  test("a task killed on its node comes back with its home, and both people still get in", async () => {
    const before = await runningTask();
    const container = before?.Status.ContainerStatus?.ContainerID;
    assert.ok(container);
    const kill = await apiAt(WORKER, 'POST', `/containers/${container}/kill`);
    assert.equal(kill.status, 204);
    const r = await spoon(['exec', name, '--', 'cat', '/home/dev/data']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kept\n');
    const after = await runningTask();
    assert.notEqual(after?.ID, before?.ID, 'Swarm started a new task');
    assert.equal(after?.NodeID, workerId);
    // /etc/spoon outlives the task: the key the second person joined with is still allowed.
    const blob = readFileSync(join(state2, 'spoon', 'id_ed25519.pub'), 'utf8').split(' ')[1] ?? '';
    const keys = await spoon(['exec', name, '--', 'cat', '/etc/spoon/authorized_keys/dev']);
    assert.ok(blob && keys.stdout.includes(blob), `the joined key is kept: ${keys.stdout}`);
    const second = await spoon2(['exec', name, '--', 'cat', '/home/dev/data']);
    assert.equal(second.code, 0, `the joined member's key outlived the task: ${second.stderr}`);
  });

  test('snapshot is refused with exit 2 naming the limit', async () => {
    const r = await spoon(['snapshot', name, 'v1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not available with the swarm backend/);
  });

  test('destroy + up brings the env back on the same node with its data', async () => {
    const d = await spoon(['destroy', name, '--force']);
    assert.equal(d.code, 0, d.stderr);
    // No --node this time: the env's volumes decide.
    const up = await spoon(['up', name, '-N', '--label', box.label]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await listed())?.node?.id, workerId);
    const r = await spoon(['exec', name, '--', 'cat', '/home/dev/data']);
    assert.equal(r.stdout, 'kept\n', r.stderr);
    // Asking for another node now is refused: the data is on the worker.
    await spoon(['destroy', name, '--force']);
    const manager = (await nodes()).find((n) => n.ManagerStatus);
    const moved = await spoon(['up', name, '-N', '--label', box.label, '--node', manager?.ID ?? '']);
    assert.equal(moved.code, 2, moved.stderr);
    assert.match(moved.stderr, /where spoon-.* volumes are/);
    const back = await spoon(['up', name, '-N', '--label', box.label]);
    assert.equal(back.code, 0, back.stderr);
  });

  test('a drained node: list and doctor say which env and why, and spoon does not move it', async () => {
    await setAvailability(workerId, 'drain');
    try {
      const env = await waitFor('the env to leave running', async () => {
        const e = await listed();
        return e?.state !== 'running' ? e : undefined;
      });
      assert.equal(env.node?.id, workerId);
      // Until the drained task's container has stopped, the env still answers.
      const running = encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=spoon-${name}`] }));
      await waitFor('the drained task to stop', async () => ((await apiAt<unknown[]>(WORKER, 'GET', `/containers/json?filters=${running}`)).body?.length === 0 ? true : undefined));
      const table = await spoon(['list']);
      assert.match(table.stdout, new RegExp(`${name}.*is drained`));
      const doctor = await spoon(['doctor']);
      assert.equal(doctor.code, 1);
      assert.match(doctor.stdout + doctor.stderr, new RegExp(`env ${name}: .*node ${workerId.slice(0, 12)}.* is drained`));
      const exec = await spoon(['exec', name, '--', 'true']);
      assert.equal(exec.code, 1);
      assert.match(exec.stderr, /cannot run: its node .* is drained/);
      const task = (await runningTask()) ?? undefined;
      assert.equal(task, undefined, 'no task runs on another node');
    } finally {
      await setAvailability(workerId, 'active');
    }
    const r = await spoon(['exec', name, '--', 'cat', '/home/dev/data']);
    assert.equal(r.stdout, 'kept\n', r.stderr);
  });

  test('a node cut off from the manager: list and doctor say it is down', async () => {
    // The worker's link to the cluster bridge goes down: its dockerd keeps running, the manager stops hearing it.
    assert.equal(host('ip', ['link', 'set', 'vsw2', 'down']).code, 0);
    try {
      const nodeState = async () => (await apiAt<{ Status: { State: string } }>(MANAGER, 'GET', `/nodes/${workerId}`)).body?.Status.State;
      await waitFor('the manager to mark the worker down', async () => ((await nodeState()) === 'down' ? true : undefined), 60_000);
      const table = await spoon(['list']);
      assert.match(table.stdout, new RegExp(`${name}.*node ${workerId.slice(0, 12)} .* is down: the env waits for it`));
      const doctor = await spoon(['doctor']);
      assert.equal(doctor.code, 1);
      assert.match(doctor.stdout + doctor.stderr, new RegExp(`env ${name}: .*is down`));
    } finally {
      host('ip', ['link', 'set', 'vsw2', 'up']);
    }
    const r = await waitFor('the env to answer again', async () => {
      const x = await spoon(['exec', name, '--', 'cat', '/home/dev/data']);
      return x.code === 0 ? x : undefined;
    }, 60_000);
    assert.equal(r.stdout, 'kept\n');
  });

  test('destroy --volumes empties the env on its node and forgets it', async () => {
    const d = await spoon(['destroy', name, '--force', '--volumes']);
    assert.equal(d.code, 0, d.stderr);
    const up = await spoon(['up', name, '-N', '--label', box.label]);
    assert.equal(up.code, 0, up.stderr);
    const r = await spoon(['exec', name, '--', 'sh', '-c', 'cat ~/data 2>/dev/null || echo fresh']);
    assert.equal(r.stdout, 'fresh\n', r.stderr);
  });
});
