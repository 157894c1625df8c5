/**
 * Every creation setting reaches the real engine (checked with inspect) or the
 * inside of the env: resources, DNS, mounts, env, labels, persist volumes,
 * authorized keys, run_on_create, agent forwarding, shell and command.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, containersLabelled, host, inspect, useSandbox, volumeExists, waitFor } from './harness.js';

const box = useSandbox();
const socket = `spoon-set-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
after(() => {
  tmux('kill-server');
});

interface FullInspect {
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: { Memory: number; NanoCpus: number; CpuShares: number; Dns: string[] | null; Privileged: boolean };
  Mounts: { Type: string; Source: string; Destination: string; RW: boolean; Name?: string }[];
}

describe('settings reach the engine and the env', () => {
  const name = box.name('set');
  const shared = join(box.dir, 'shared');

  test('resources, dns, mounts, env and labels', async () => {
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'hello.txt'), 'from the host\n');
    await box.up(name, [
      '--memory', '512m', '--cpus', '1.5', '--cpu-shares', '512', '--dns', '192.0.2.53',
      '--volume', `${shared}:/mnt/host:ro`, '--volume', `t${box.runId}-named:/data`,
      '-e', 'GREETING=hello world', '--label', 'team=core', '--persist', '~', '--persist', '/srv/keep',
    ]);
    const c = (await api<FullInspect>('GET', `/containers/spoon-${name}/json`)).body;
    assert.ok(c);
    assert.equal(c.HostConfig.Memory, 512 * 1024 * 1024);
    assert.equal(c.HostConfig.NanoCpus, 1.5e9);
    assert.equal(c.HostConfig.CpuShares, 512);
    assert.deepEqual(c.HostConfig.Dns, ['192.0.2.53']);
    assert.equal(c.HostConfig.Privileged, false);
    assert.ok(c.Config.Env.includes('GREETING=hello world'));
    assert.equal(c.Config.Labels.team, 'core');
    const bind = c.Mounts.find((m) => m.Destination === '/mnt/host');
    assert.equal(bind?.Type, 'bind');
    assert.equal(bind?.RW, false);
    assert.equal(c.Mounts.find((m) => m.Destination === '/data')?.Name, `t${box.runId}-named`);
    assert.equal(c.Mounts.find((m) => m.Destination === '/srv/keep')?.Name, `spoon-${name}-srv-keep`);
    assert.equal(c.Mounts.find((m) => m.Destination === '/home/dev')?.Name, `spoon-${name}-home`);

    const inside = await box.spoon(['exec', name, '--', 'sh', '-c', 'cat /mnt/host/hello.txt; echo "$GREETING"; cat /etc/resolv.conf | grep -c 192.0.2.53; touch /mnt/host/x 2>/dev/null || echo read-only']);
    assert.equal(inside.code, 0, inside.stderr);
    assert.equal(inside.stdout, 'from the host\nhello world\n1\nread-only\n');
  });

  test('a persist path other than the home survives destroy; --volumes removes it', async () => {
    const w = await box.spoon(['exec', name, '--', 'sudo', 'sh', '-c', 'echo kept > /srv/keep/file']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await box.spoon(['destroy', name, '-f'])).code, 0);
    assert.ok(await volumeExists(`spoon-${name}-srv-keep`));
    await box.up(name, ['--persist', '~', '--persist', '/srv/keep']);
    assert.equal((await box.spoon(['exec', name, '--', 'cat', '/srv/keep/file'])).stdout, 'kept\n');
    assert.equal((await box.spoon(['destroy', name, '-f', '--volumes'])).code, 0);
    assert.equal(await volumeExists(`spoon-${name}-srv-keep`), false);
    assert.equal(await volumeExists(`spoon-${name}-home`), false);
    await api('DELETE', `/volumes/t${box.runId}-named`);
  });

  test('run_on_create runs once, in order, as the user; not again after a restart', async () => {
    const n = box.name('roc');
    const r = await box.spoon(['up', n, '-N', '--label', box.label, '--run-on-create', 'echo "one $(whoami)" >> ~/log', '--run-on-create', 'echo two >> ~/log']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /run_on_create 1\/2: echo "one \$\(whoami\)" >> ~\/log/);
    assert.equal((await box.spoon(['restart', n])).code, 0);
    const again = await box.spoon(['up', n, '-N', '--label', box.label, '--run-on-create', 'echo "one $(whoami)" >> ~/log', '--run-on-create', 'echo two >> ~/log']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /run_on_create/);
    assert.equal((await box.spoon(['exec', n, '--', 'cat', 'log'])).stdout, 'one dev\ntwo\n');
  });

  test('a failing run_on_create stops with its status and leaves the env to inspect', async () => {
    const n = box.name('rocfail');
    const r = await box.spoon(['up', n, '-N', '--label', box.label, '--run-on-create', 'echo first > ~/ran', '--run-on-create', 'exit 3', '--run-on-create', 'echo never > ~/never']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^spoon: run_on_create 2\/3 \(exit 3\) failed with exit status 3$/m);
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 1, 'the env is kept');
    const look = await box.spoon(['exec', n, '--', 'sh', '-c', 'cat ~/ran; test -e ~/never && echo ran-third || echo stopped']);
    assert.equal(look.stdout, 'first\nstopped\n');
    const later = await box.spoon(['up', n, '-N', '--label', box.label, '--run-on-create', 'echo first > ~/ran', '--run-on-create', 'exit 3', '--run-on-create', 'echo never > ~/never']);
    assert.equal(later.code, 0);
    assert.match(later.stderr, /warning: the setup commands did not finish/);
  });

  test('authorized_keys lets another key log in with plain ssh', async () => {
    mkdirSync(join(box.dir, 'keys'), { recursive: true });
    const key = join(box.dir, 'keys', 'friend');
    assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).code, 0);
    const n = box.name('keys');
    await box.up(n, ['--authorized-key', `${key}.pub`]);
    const port = (await inspect(`spoon-${n}`))?.NetworkSettings.Ports['22/tcp']?.[0]?.HostPort ?? '';
    const r = host('ssh', ['-F', 'none', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', port, 'dev@127.0.0.1', 'echo', 'friend-in']);
    assert.equal(r.stdout, 'friend-in\n', r.stderr);
  });

  test('forward_agent makes the host agent usable in the env', async () => {
    const n = box.name('keys');
    const agentDir = join(box.dir, 'agent');
    mkdirSync(agentDir, { recursive: true });
    const sock = join(agentDir, 'sock');
    const agent = host('ssh-agent', ['-a', sock]);
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    try {
      const key = join(box.dir, 'keys', 'friend');
      assert.equal(host('env', [`SSH_AUTH_SOCK=${sock}`, 'ssh-add', '-q', key]).code, 0);
      const fp = host('ssh-keygen', ['-l', '-f', `${key}.pub`]).stdout.split(' ')[1];
      const without = await box.spoon(['exec', n, '--', 'sh', '-c', 'ssh-add -l; true'], { env: { SSH_AUTH_SOCK: sock } });
      assert.doesNotMatch(without.stdout, new RegExp(fp ?? 'none'), 'not forwarded unless asked');
      // Asked for with -A or the setting: every session sees the stable socket, not sshd's per-connection one.
      const stable = '/home/dev/.ssh/spoon-agent.sock';
      for (const [args, env] of [[[], { SPOON_FORWARD_AGENT: 'true' }], [['-A'], {}]] as const) {
        const withAgent = await box.spoon(['exec', ...args, n, '--', 'sh', '-c', 'echo "$SSH_AUTH_SOCK"; ssh-add -l'], { env: { SSH_AUTH_SOCK: sock, ...env } });
        assert.equal(withAgent.code, 0, withAgent.stderr);
        const [path, ...keys] = withAgent.stdout.trim().split('\n');
        assert.equal(path, stable, withAgent.stdout);
        assert.ok(fp && keys.join('\n').includes(fp), withAgent.stdout);
      }
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  test('forward_agent keeps the agent working in tmux across reconnects (stable socket)', async () => {
    const n = box.name('keys');
    const sock = join(box.dir, 'agent2.sock');
    const agent = host('ssh-agent', ['-a', sock]);
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    try {
      const key = join(box.dir, 'keys', 'friend');
      assert.equal(host('env', [`SSH_AUTH_SOCK=${sock}`, 'ssh-add', '-q', key]).code, 0);
      const env = box.env();
      const attach = (client: string) =>
        tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', '120', '-y', '30',
          `env SSH_AUTH_SOCK='${sock}' XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${n} --session agent -A; sleep 30`);
      const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;
      attach('ag1');
      await waitFor('the first attach', () => (screen('ag1').includes('[agent]') ? true : undefined));
      // Leave a shell in the session, then drop that connection entirely.
      tmux('send-keys', '-t', 'ag1:0.0', 'tmux detach-client', 'Enter');
      await waitFor('the detach', () => (screen('ag1').includes('[agent]') ? undefined : true));
      attach('ag2');
      await waitFor('the second attach', () => (screen('ag2').includes('[agent]') ? true : undefined));
      // The shell started under the first connection still reaches the agent.
      tmux('send-keys', '-t', 'ag2:0.0', 'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l >/dev/null && echo agent-ok-$((1+1))', 'Enter');
      await waitFor('the agent to answer in the old shell', () => (screen('ag2').includes('agent-ok-2') ? true : undefined), 10_000);
      assert.match(screen('ag2'), /sock=\/home\/dev\/\.ssh\/spoon-agent\.sock/);
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  test('privileged is set on the container, and a refused start is one clear line', async () => {
    const n = box.name('priv');
    const run = box.spoon(['up', n, '-N', '--label', box.label, '--privileged']);
    // The sandbox may refuse to start privileged containers; catch the container before that.
    const seen = await waitFor('the privileged container', async () => (await api<FullInspect>('GET', `/containers/spoon-${n}/json`)).body?.HostConfig, 20_000);
    assert.equal(seen.Privileged, true);
    const r = await run;
    if (r.code !== 0) {
      assert.equal(r.code, 1);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('spoon: '));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0] ?? '', new RegExp(`^spoon: cannot start ${n}: `));
    }
  });

  test('shell starts the tmux session; command replaces the attach', async () => {
    const n = box.name('keys');
    const env = box.env();
    const launch = (client: string, extra: string) =>
      tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', '120', '-y', '30',
        `env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${n} ${extra}; echo "exit=$?"; sleep 30`);
    launch('cmd', `--command 'echo command-ran-$((2+3))'`);
    await waitFor('the command output', () => (tmux('capture-pane', '-p', '-t', 'cmd:0.0').stdout.includes('command-ran-5') ? true : undefined));
    await waitFor('spoon to exit', () => (tmux('capture-pane', '-p', '-t', 'cmd:0.0').stdout.includes('exit=0') ? true : undefined));

    launch('sh', `--session shelltest --shell /bin/sh`);
    let last = '';
    await waitFor('the session', async () => {
      const r = await box.spoon(['exec', n, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'list-panes', '-t', 'shelltest', '-F', '#{pane_current_command}']);
      last = `${r.code} ${r.stdout} ${r.stderr} screen: ${tmux('capture-pane', '-p', '-t', 'sh:0.0').stdout}`;
      return r.stdout.trim() === 'sh' ? true : undefined;
    }, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
  });
});
