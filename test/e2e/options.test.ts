/**
 * Creation flags and the CLI surface a new user meets: --listen, --user, the
 * user's own key, docker-spoon's --nologin, --help everywhere, the TTY
 * confirmation of destroy, and the warning when settings differ from creation.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, containersLabelled, host, inspect, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const socket = `spoon-opt-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
after(() => {
  tmux('kill-server');
});

describe('creation flags and CLI surface', () => {
  test('--help works on every command and lists its flags', async () => {
    const expectations: [string[], RegExp][] = [
      [['--help'], /Commands:[\s\S]*destroy\|rm/],
      [['--help'], /--engine <url>\s+engine\s+endpoint:\s+unix:\/\/\/path\.sock,\s+tcp:\/\/host:port\s+or\s+ssh:\/\/\[user@\]host\[:port\]/],
      [['up', '--help'], /--no-attach[\s\S]*--publish[\s\S]*--forward/],
      [['exec', '--help'], /NAME \[--\] CMD/],
      [['list', '--help'], /--json/],
      [['ports', '--help'], /--json/],
      [['stop', '--help'], /nothing is deleted/],
      [['restart', '--help'], /restart/],
      [['destroy', '--help'], /--volumes/],
      [['images', '--help'], /--json/],
      [['doctor', '--help'], /check the engine/],
    ];
    for (const [args, pattern] of expectations) {
      const r = await box.spoon(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, pattern, args.join(' '));
    }
  });

  test('--nologin readies the env like -N; --listen 0.0.0.0 publishes on all interfaces', async () => {
    const name = box.name('listen');
    const r = await box.spoon(['up', name, '--nologin', '--label', box.label, '--listen', '0.0.0.0', '-p', '9000']);
    assert.equal(r.code, 0, r.stderr);
    const c = await inspect(`spoon-${name}`);
    assert.equal(c?.HostConfig.PortBindings['22/tcp']?.[0]?.HostIp, '0.0.0.0');
    assert.equal(c?.HostConfig.PortBindings['9000/tcp']?.[0]?.HostIp, '0.0.0.0');
    // spoon still connects through loopback.
    assert.equal((await box.spoon(['exec', name, '--', 'echo', 'ok'])).stdout, 'ok\n');
  });

  test('a --user the image lacks is refused before the env is created', async () => {
    const name = box.name('nouser');
    const r = await box.spoon(['up', name, '-N', '--label', box.label, '--user', 'alice']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^spoon: image 'spoon-default:\w+' has no user 'alice'$/m);
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0);
  });

  test("the user's own ~/.ssh key logs in with plain ssh, verified against spoon's pin", async () => {
    mkdirSync(join(box.home, '.ssh'), { recursive: true, mode: 0o700 });
    const key = join(box.home, '.ssh', 'id_ed25519');
    assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).code, 0);
    const name = box.name('ownkey');
    await box.up(name);
    const ports = JSON.parse((await box.spoon(['ports', name, '--json'])).stdout) as { ssh: { host: string; port: number } };
    const knownHosts = join(box.stateHome, 'spoon', 'envs', name, 'known_hosts');
    const r = host('ssh', [
      '-F', 'none', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', `HostKeyAlias=spoon-${name}`, '-o', 'StrictHostKeyChecking=yes',
      '-p', String(ports.ssh.port), `dev@${ports.ssh.host}`, 'echo', 'plain-ssh',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'plain-ssh\n');
  });

  test('settings that differ from creation are reported, not applied silently', async () => {
    const name = box.name('drift');
    await box.up(name, ['-p', '7000']);
    const r = await box.spoon(['up', name, '-N', '--label', box.label, '-p', '7001']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .* was created with other settings/);
    assert.match(r.stderr, /spoon destroy/);
    assert.equal((await inspect(`spoon-${name}`))?.HostConfig.PortBindings['7001/tcp'], undefined, 'not recreated behind the user\'s back');
    const same = await box.spoon(['up', name, '-N', '--label', box.label, '-p', '7000']);
    assert.doesNotMatch(same.stderr, /warning/);
  });

  test('destroy asks y/N on a terminal: N keeps the env, y removes it', async () => {
    const name = box.name('confirm');
    await box.up(name);
    const env = box.env();
    const run = (client: string) =>
      tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', '120', '-y', '20',
        `env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' destroy ${name}; echo "exit=$?"; sleep 30`);
    const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;

    run('no');
    await waitFor('the question', () => (screen('no').includes('[y/N]') ? true : undefined));
    assert.match(screen('no'), new RegExp(`Destroy ${name} \\(its home volume is kept\\)\\? \\[y/N\\]`));
    tmux('send-keys', '-t', 'no:0.0', 'n', 'Enter');
    await waitFor('spoon to exit', () => (screen('no').includes('exit=') ? true : undefined));
    assert.match(screen('no'), /nothing destroyed[\s\S]*exit=1/);
    assert.ok(await inspect(`spoon-${name}`), 'kept after N');

    run('yes');
    await waitFor('the question', () => (screen('yes').includes('[y/N]') ? true : undefined));
    tmux('send-keys', '-t', 'yes:0.0', 'y', 'Enter');
    await waitFor('spoon to exit', () => (screen('yes').includes('exit=') ? true : undefined));
    assert.match(screen('yes'), /exit=0/);
    assert.equal(await inspect(`spoon-${name}`), undefined, 'removed after y');
  });
});
