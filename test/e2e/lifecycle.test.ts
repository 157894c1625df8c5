/**
 * The whole lifecycle against the real engine: create (default image), exec,
 * list, ports, stop, exec-starts-it, restart, destroy keeping the home, destroy
 * --volumes, and the security defaults that a user can observe from outside.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { containersLabelled, host, inspect, useSandbox, volumeExists } from './harness.js';

const box = useSandbox();
const name = box.name('life');

describe('lifecycle', () => {
  test('up -N creates a labelled env from the default image and sshd answers', async () => {
    const r = await box.up(name, ['--publish', '8080']);
    assert.match(r.stderr, new RegExp(`${name} is ready`));
    const c = await inspect(`spoon-${name}`);
    assert.ok(c, 'container spoon-NAME exists');
    assert.equal(c.State.Status, 'running');
    assert.equal(c.Config.Labels['dev.spoon.name'], name);
    assert.ok(c.Config.Labels['dev.spoon.version']);
    assert.match(c.Config.Labels['dev.spoon.config-hash'] ?? '', /^[0-9a-f]{16}$/);
    assert.match(c.Config.Image, /^spoon-default:[0-9a-f]{12}$/);
    // Every published port, ssh included, binds to loopback by default.
    for (const [port, bindings] of Object.entries(c.HostConfig.PortBindings)) {
      for (const b of bindings) assert.equal(b.HostIp, '127.0.0.1', `${port} binds to 127.0.0.1`);
    }
    assert.ok(c.HostConfig.PortBindings['8080/tcp'], 'the --publish port is published');
    assert.ok(await volumeExists(`spoon-${name}-home`), 'the home volume exists');
  });

  test('exec runs as the env user with arguments exactly as given, stdin and exit status passed', async () => {
    const who = await box.spoon(['exec', name, '--', 'whoami']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'dev\n');

    const args = ['a b', '$HOME', "it's", '*', '"q"', '`id`', '-n', ''];
    const printed = await box.spoon(['exec', name, 'printf', '[%s]\\n', ...args]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, args.map((a) => `[${a}]\n`).join(''));

    const piped = await box.spoon(['exec', name, '--', 'sh', '-c', 'tr a-z A-Z; exit 7'], { input: 'hello stdin\n' });
    assert.equal(piped.stdout, 'HELLO STDIN\n');
    assert.equal(piped.code, 7);

    const sudo = await box.spoon(['exec', name, '--', 'sudo', '-n', 'id', '-u']);
    assert.equal(sudo.stdout.trim(), '0', 'dev has passwordless sudo');
    const tmux = await box.spoon(['exec', name, '--', 'tmux', '-V']);
    assert.match(tmux.stdout, /^tmux \d/);
  });

  test('list and ports report the env, as text and JSON', async () => {
    const list = await box.spoon(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const envs = JSON.parse(list.stdout) as { name: string; state: string; image: string; ports: { container: number; host: number; hostIp: string; protocol: string }[]; ssh: { host: string; port: number } | null; createdAt: string }[];
    const env = envs.find((e) => e.name === name);
    assert.ok(env, 'listed');
    assert.equal(env.state, 'running');
    assert.match(env.image, /^spoon-default:/);
    assert.equal(env.ssh?.host, '127.0.0.1');
    assert.ok(env.ssh && env.ssh.port > 0);
    assert.ok(!Number.isNaN(Date.parse(env.createdAt)));
    const web = env.ports.find((p) => p.container === 8080);
    assert.ok(web && web.host > 0 && web.hostIp === '127.0.0.1' && web.protocol === 'tcp', JSON.stringify(env.ports));

    const text = await box.spoon(['-l']);
    assert.match(text.stdout, new RegExp(`^${name}\\s+running`, 'm'));

    const ports = await box.spoon(['-n', name]);
    assert.equal(ports.code, 0, ports.stderr);
    assert.match(ports.stdout, new RegExp(`^22/tcp \\(ssh\\) -> 127\\.0\\.0\\.1:${env.ssh?.port}$`, 'm'));
    assert.match(ports.stdout, new RegExp(`^8080/tcp -> 127\\.0\\.0\\.1:${web.host}$`, 'm'));
    const portsJson = JSON.parse((await box.spoon(['ports', name, '--json'])).stdout) as { ssh: { port: number } };
    assert.equal(portsJson.ssh.port, env.ssh?.port);
  });

  test('the host key is pinned before the first connect and sshd takes keys only', async () => {
    const c = await inspect(`spoon-${name}`);
    const sshPort = c?.NetworkSettings.Ports['22/tcp']?.[0]?.HostPort;
    assert.ok(sshPort);
    const pinned = readFileSync(join(box.stateHome, 'spoon', 'envs', name, 'known_hosts'), 'utf8').trim().split(' ');
    const scanned = host('ssh-keyscan', ['-t', 'ed25519', '-p', sshPort, '127.0.0.1']).stdout.trim().split(' ');
    assert.equal(pinned[0], `spoon-${name}`);
    assert.equal(`${pinned[1]} ${pinned[2]}`, `${scanned[1]} ${scanned[2]}`, 'the key sshd presents is the one spoon pinned');

    for (const f of ['id_ed25519', join('envs', name, 'known_hosts'), join('envs', name, 'state.json')]) {
      assert.equal(statSync(join(box.stateHome, 'spoon', f)).mode & 0o777, 0o600, `${f} is 0600`);
    }

    // Password and keyboard-interactive logins are refused outright.
    const pw = host('ssh', ['-F', 'none', '-p', sshPort, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', 'dev@127.0.0.1', 'true']);
    assert.notEqual(pw.code, 0);
    assert.match(pw.stderr, /Permission denied \(publickey\)/);
    // Root cannot log in even with spoon's own key.
    const key = join(box.stateHome, 'spoon', 'id_ed25519');
    const root = host('ssh', ['-F', 'none', '-p', sshPort, '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', 'root@127.0.0.1', 'true']);
    assert.notEqual(root.code, 0);
    assert.match(root.stderr, /Permission denied/, 'refused by sshd, not a failed connection');
  });

  test('stop keeps the env; exec into a stopped env starts it; restart keeps it usable', async () => {
    const stop = await box.spoon(['stop', name]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'exited');
    const listed = JSON.parse((await box.spoon(['list', '--json'])).stdout) as { name: string; state: string; ssh: unknown }[];
    assert.equal(listed.find((e) => e.name === name)?.state, 'stopped');
    assert.equal(listed.find((e) => e.name === name)?.ssh, null);

    const ex = await box.spoon(['exec', name, '--', 'echo', 'back']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'back\n');
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'running');

    const before = (await inspect(`spoon-${name}`))?.State.StartedAt;
    const restart = await box.spoon(['--restart', name]);
    assert.equal(restart.code, 0, restart.stderr);
    assert.notEqual((await inspect(`spoon-${name}`))?.State.StartedAt, before, 'the container was restarted');
    const after = await box.spoon(['exec', name, '--', 'true']);
    assert.equal(after.code, 0, after.stderr);

    const kill = await box.spoon(['--kill', name]);
    assert.equal(kill.code, 0, kill.stderr);
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'exited');
  });

  test('a file in the home survives destroy and recreate, and is gone after destroy --volumes', async () => {
    const write = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo precious > ~/keep.txt && sync']);
    assert.equal(write.code, 0, write.stderr);

    const refused = await box.spoon(['destroy', name]);
    assert.equal(refused.code, 2, 'no TTY and no --force: refuses');
    assert.match(refused.stderr, /--force/);
    assert.ok(await inspect(`spoon-${name}`), 'still there after the refusal');

    const destroyed = await box.spoon(['-d', name, '--force']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.equal(await inspect(`spoon-${name}`), undefined, 'container removed');
    assert.ok(await volumeExists(`spoon-${name}-home`), 'home volume kept');
    assert.match(destroyed.stderr, /kept volumes/);

    await box.up(name);
    const read = await box.spoon(['exec', name, '--', 'cat', 'keep.txt']);
    assert.equal(read.stdout, 'precious\n', 'the home came back');

    const gone = await box.spoon(['rm', name, '-y', '--volumes']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(await volumeExists(`spoon-${name}-home`), false, 'home volume removed');
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0);

    await box.up(name);
    const fresh = await box.spoon(['exec', name, '--', 'sh', '-c', 'test -e ~/keep.txt && echo present || echo absent']);
    assert.equal(fresh.stdout, 'absent\n');
    assert.equal((await box.spoon(['destroy', name, '-f', '--volumes'])).code, 0);
  });
});
