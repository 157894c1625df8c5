/**
 * An ssh:// engine: the test runs its own sshd on loopback (the "engine host"),
 * spoon reaches the engine through `ssh HOST docker system dial-stdio` and the
 * env's sshd through that host, and refuses an engine host whose key is wrong.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, host, readBanner, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const dir = join(box.dir, 'engine-host');
let sshd: ChildProcess | undefined;
let engineUrl = '';
let sshEnv: Record<string, string> = {};

before(async () => {
  mkdirSync(dir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true });
  for (const key of ['hostkey', 'clientkey']) assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]).code, 0);
  copyFileSync(join(dir, 'clientkey.pub'), join(dir, 'authorized'));
  chmodSync(join(dir, 'authorized'), 0o600);
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'hostkey')}`, `AuthorizedKeysFile ${join(dir, 'authorized')}`,
      'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'UsePAM no', 'StrictModes no', 'PidFile none', ''].join('\n'),
  );
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  await waitFor('the engine host sshd', () => readBanner(port));
  // The user's own ssh setup for the engine host: key and pinned host key.
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'hostkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  writeFileSync(join(dir, 'ssh_config'), `Host 127.0.0.1\n  IdentityFile ${join(dir, 'clientkey')}\n  UserKnownHostsFile ${join(dir, 'known_hosts')}\n  StrictHostKeyChecking yes\n`);
  // ssh reads ~/.ssh from the passwd entry, not $HOME: a wrapper hands it the test config.
  // spoon's own env connections pass -F none after it, and ssh keeps the last -F.
  writeFileSync(join(dir, 'ssh'), `#!/bin/sh\nexec ssh -F ${join(dir, 'ssh_config')} "$@"\n`, { mode: 0o755 });
  engineUrl = `ssh://root@127.0.0.1:${port}`;
  sshEnv = { SPOON_SSH: join(dir, 'ssh'), DOCKER_HOST: engineUrl };
});

after(() => {
  sshd?.kill();
});

describe('ssh:// engines', () => {
  const name = box.name('sshengine');

  test('up, exec, list and destroy through the engine host', async () => {
    const up = await box.spoon(['--debug', 'up', name, '-N', '--label', box.label], { env: sshEnv });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /ssh command: .*docker system dial-stdio/, 'the engine is reached through ssh');
    assert.match(up.stderr, /ProxyCommand=.* -W %h:%p/, "the env's sshd is reached through the engine host");
    const ex = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo "$(whoami) on $(hostname)"'], { env: sshEnv });
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, `dev on ${name}\n`);
    const list = JSON.parse((await box.spoon(['list', '--json'], { env: sshEnv })).stdout) as { name: string; state: string }[];
    assert.equal(list.find((e) => e.name === name)?.state, 'running');
    const doctor = await box.spoon(['doctor', '--json'], { env: sshEnv });
    assert.match(doctor.stdout, /"detail": "Docker .* at ssh:\/\/root@127\.0\.0\.1:\d+"/);
    // ssh-config's ProxyCommand (`spoon proxy NAME`) relays through the engine host too: `ssh -W` before its `--`.
    const written = await box.spoon(['ssh-config', name, '--write'], { env: sshEnv });
    assert.equal(written.code, 0, written.stderr);
    const env = box.env(sshEnv);
    const vars = ['XDG_STATE_HOME', 'HOME', 'SPOON_SSH', 'DOCKER_HOST'].map((k) => `${k}=${env[k] ?? ''}`);
    const viaConfig = host('env', [...vars, 'ssh', '-F', join(box.stateHome, 'spoon', 'ssh_config'), `spoon-${name}`, 'hostname']);
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.equal(viaConfig.stdout, `${name}\n`);
    const gone = await box.spoon(['destroy', name, '-f', '--volumes'], { env: sshEnv });
    assert.equal(gone.code, 0, gone.stderr);
  });

  test("an engine host whose key does not match the user's known_hosts is refused", async () => {
    const known = join(dir, 'known_hosts');
    const good = readFileSync(known, 'utf8');
    const wrong = readFileSync(join(dir, 'clientkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(known, `${good.split(' ')[0]} ${wrong}\n`);
    try {
      const r = await box.spoon(['list'], { env: sshEnv });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^spoon: cannot reach the engine at ssh:\/\/root@127\.0\.0\.1:\d+: Host key verification failed\.$/m);
    } finally {
      writeFileSync(known, good);
    }
  });

  test('a bad ssh engine URL is a usage error', async () => {
    const r = await box.spoon(['--engine', 'ssh://host/some/path', 'list']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid engine URL 'ssh:\/\/host\/some\/path'/);
  });
});

describe('ssh:// engines: joining', () => {
  const name = box.name('sshjoin');

  test('a second person (own HOME and state) joins an env made through the engine host: keys through the engine, the same pin', async () => {
    const up = await box.spoon(['up', name, '-N', '--label', box.label], { env: sshEnv });
    assert.equal(up.code, 0, up.stderr);
    const bobHome = join(box.dir, 'bob', 'home');
    const bobState = join(box.dir, 'bob', 'state');
    mkdirSync(join(bobHome, '.ssh'), { recursive: true });
    const kg = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob@desk', '-f', join(bobHome, '.ssh', 'id_ed25519')]);
    assert.equal(kg.code, 0, kg.stderr);
    const r = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo $SPOON_WHO'], { env: { ...sshEnv, HOME: bobHome, XDG_STATE_HOME: bobState } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bob@desk\n');
    const pin = (state: string) => readFileSync(join(state, 'spoon', 'envs', name, 'known_hosts'), 'utf8');
    assert.equal(pin(bobState), pin(box.stateHome), "bob pinned the env's host key, as its maker did");
    const gone = await box.spoon(['destroy', name, '-f', '--volumes'], { env: sshEnv });
    assert.equal(gone.code, 0, gone.stderr);
  });
});
