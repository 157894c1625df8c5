/**
 * Bad input and faults: each gets one clear `spoon: ...` line, the right exit
 * code, no stack trace, and leaves nothing behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, containersLabelled, inspect, useSandbox, type RunResult } from './harness.js';

const box = useSandbox();

function assertCleanError(r: RunResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  // Progress lines may come first; the error itself is one `spoon: ...` line (plus an optional hint).
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('spoon: '));
  assert.equal(errors.length, 1, `one error line in: ${r.stderr}`);
  assert.match(errors[0] ?? '', pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing on stdout');
}

async function nothingCreated(name: string): Promise<void> {
  assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0, `no container for ${name}`);
  assert.equal(await inspect(`spoon-${name}`), undefined);
}

describe('usage errors exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['invalid NAME', ['up', 'Bad_Name!', '-N'], /invalid environment name 'Bad_Name!'/],
    ['NAME too long', ['up', 'a'.repeat(64), '-N'], /invalid environment name/],
    ['invalid NAME for exec', ['exec', '-bad', '--', 'true'], /unknown option|invalid environment name/],
    ['unknown flag', ['list', '--bogus'], /unknown option '--bogus'/],
    ['unknown flag on up', ['up', 'x', '--frobnicate'], /unknown option '--frobnicate'/],
    ['missing NAME', ['stop'], /missing required argument/],
    ['port out of range', ['up', 'x', '-N', '--publish', '70000'], /--publish: invalid value '70000': port 70000 is outside 1-65535/],
    ['malformed port', ['up', 'x', '-N', '-p', '80:http'], /--publish: invalid value '80:http'/],
    ['malformed forward', ['up', 'x', '-N', '-L', 'abc'], /--forward: invalid value 'abc'/],
    ['root user', ['up', 'x', '-N', '--user', 'root'], /--user: invalid value 'root'/],
    ['bad listen address', ['up', 'x', '-N', '--listen', 'everywhere'], /--listen: invalid value 'everywhere': not an IP address/],
    ['bad engine URL', ['--engine', 'ftp://host', 'list'], /invalid engine URL 'ftp:\/\/host' \(from --engine\)/],
    ['attach without a terminal', ['up', 'x'], /needs a terminal/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, async () => {
      const r = await box.spoon(args);
      assertCleanError(r, 2, pattern);
    });
  }

  test('bad SPOON_USER env var names the variable', async () => {
    const r = await box.spoon(['up', box.name('envvar'), '-N'], { env: { SPOON_USER: 'Not A User' } });
    assertCleanError(r, 2, /SPOON_USER: invalid value 'Not A User'/);
    await nothingCreated(box.name('envvar'));
  });
});

describe('runtime failures exit 1', () => {
  test('engine unreachable names the endpoint and suggests spoon doctor', async () => {
    const r = await box.spoon(['--engine', 'unix:///nonexistent/docker.sock', 'list']);
    assertCleanError(r, 1, /cannot reach the engine at unix:\/\/\/nonexistent\/docker\.sock/);
    assert.match(r.stderr, /spoon doctor/);
    const viaEnv = await box.spoon(['list'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    assertCleanError(viaEnv, 1, /cannot reach the engine at tcp:\/\/127\.0\.0\.1:1: connection refused/);
  });

  test('an image that does not exist', async () => {
    const name = box.name('noimage');
    const r = await box.spoon(['up', name, '-N', '--label', box.label, '--image', 'spoon-test/does-not-exist:1']);
    assertCleanError(r, 1, /image 'spoon-test\/does-not-exist:1' is not on the engine and could not be pulled/);
    await nothingCreated(name);
  });

  test('an image with sshd but without tmux says so', async () => {
    // Make such an image from spoon's default: a container that deletes tmux, committed.
    const base = box.name('tmuxbase');
    await box.up(base);
    const img = (await inspect(`spoon-${base}`))?.Config.Image;
    assert.ok(img);
    const created = await api<{ Id: string }>('POST', `/containers/create`, { Image: img, Entrypoint: ['/bin/rm', '-f', '/usr/bin/tmux'], Cmd: [], Labels: { 'test.spoon.run': box.runId } });
    const id = created.body?.Id ?? '';
    await api('POST', `/containers/${id}/start`);
    await api('POST', `/containers/${id}/wait`);
    const tag = `spoon-test-notmux:${box.runId}`;
    const commit = await api('POST', `/commit?container=${id}&repo=spoon-test-notmux&tag=${box.runId}`);
    assert.equal(commit.status, 201);
    try {
      const name = box.name('notmux');
      const r = await box.spoon(['up', name, '-N', '--label', box.label, '--image', tag]);
      assertCleanError(r, 1, new RegExp(`image '${tag}' has sshd but no tmux`));
      await nothingCreated(name);
    } finally {
      await api('DELETE', `/containers/${id}?force=1`);
      await api('DELETE', `/images/${tag}?force=1`);
    }
  });

  test('a publish port already in use fails cleanly and leaves no container', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const name = box.name('portbusy');
      const r = await box.spoon(['up', name, '-N', '--label', box.label, '--publish', `${port}:80`]);
      assertCleanError(r, 1, new RegExp(`host port 127\\.0\\.0\\.1:${port} is already in use`));
      await nothingCreated(name);
    } finally {
      server.close();
    }
  });

  test('destroy, stop and ports of an env that does not exist', async () => {
    for (const args of [['destroy', box.name('ghost'), '-f'], ['stop', box.name('ghost')], ['ports', box.name('ghost')]]) {
      const r = await box.spoon(args);
      assertCleanError(r, 1, new RegExp(`no environment named '${box.name('ghost')}'`));
    }
  });

  test('a tampered known_hosts makes spoon refuse to connect', async () => {
    const name = box.name('tamper');
    await box.up(name);
    assert.equal((await box.spoon(['exec', name, '--', 'true'])).code, 0);
    const file = join(box.stateHome, 'spoon', 'envs', name, 'known_hosts');
    const original = readFileSync(file, 'utf8');
    // Another valid ed25519 key under the same alias: what an attacker's sshd would present.
    const other = readFileSync(join(box.stateHome, 'spoon', 'id_ed25519.pub'), 'utf8').split(' ');
    writeFileSync(file, `spoon-${name} ${other[0]} ${other[1]}\n`);
    // Stop closes the shared connection, so the next one must verify the host key again.
    assert.equal((await box.spoon(['stop', name])).code, 0);

    const r = await box.spoon(['exec', name, '--', 'touch', '/tmp/should-not-run']);
    assertCleanError(r, 1, /host key of .* does not match the key spoon pinned; refusing to connect/);
    assert.equal(readFileSync(file, 'utf8'), `spoon-${name} ${other[0]} ${other[1]}\n`, 'spoon did not re-pin on its own');

    writeFileSync(file, original);
    const ok = await box.spoon(['exec', name, '--', 'sh', '-c', 'test -e /tmp/should-not-run && echo ran || echo clean']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'clean\n', 'the command never ran while the key did not match');
  });
});
