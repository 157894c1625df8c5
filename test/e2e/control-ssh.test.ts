/**
 * Root control of an env over ssh with a certificate from the env's own CA (issue 13's
 * replacement for engine exec and the archive API on Swarm), against a real env made by
 * spoon on the Docker engine: its sshd gets the control lines and the CA through the
 * engine, then exec, putFiles and readFile go over ssh only.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SOCKET, containersLabelled, engineExec, host, inspect, useSandbox, waitFor } from './harness.js';
import { DockerEngine } from '../../src/engine/docker/docker-engine.js';
import type { ExecSpec } from '../../src/engine/engine.js';
import { generateEd25519 } from '../../src/ssh/keys.js';
import { HOST_KEY, SSHD_CONFIG } from '../../src/core/provision.js';
import { OWNER_FILE } from '../../src/pairing/env-helper.js';
import {
  ControlSshError,
  closeControl,
  controlExec,
  controlFiles,
  controlPutFiles,
  controlReadFile,
  controlSshdLines,
  type ControlTarget,
} from '../../src/engine/swarm/control-ssh.js';

const box = useSandbox();
const name = box.name('ctl');
const engine = new DockerEngine({ kind: 'unix', url: `unix://${SOCKET}`, socketPath: SOCKET });
const ca = generateEd25519('test-ca');
let id = '';
let user = '';
let target: ControlTarget;
const scratch = mkdtempSync(join(tmpdir(), 'spoon-ctl-test-'));

before(async () => {
  await box.up(name);
  const [c] = await containersLabelled(box.label);
  assert.ok(c, 'the env container exists');
  id = c.Id;
  const ports = (await inspect(id))?.NetworkSettings.Ports['22/tcp'];
  const port = Number(ports?.[0]?.HostPort);
  assert.ok(port > 0, 'ssh is published');
  const hostPublicKey = (await engine.readFile(id, `${HOST_KEY}.pub`))!.toString().trim();
  user = (await engine.readFile(id, OWNER_FILE))!.toString().trim();
  target = { host: '127.0.0.1', port, hostPublicKey, caPrivateKey: ca.privateKey };

  const config = (await engine.readFile(id, SSHD_CONFIG))!.toString();
  const at = config.search(/^Match /m);
  assert.ok(at > 0, 'the sshd config has a Match block');
  const withControl = `${config.slice(0, at)}${controlSshdLines().join('\n')}\n${config.slice(at)}`;
  await engine.putFiles(id, [], [...controlFiles(ca.publicKey), { path: SSHD_CONFIG, content: withControl, mode: 0o644 }]);
  // The listener re-executes itself on SIGHUP and reads the config again.
  assert.equal(await engineExec(id, ['/bin/sh', '-c', `/usr/sbin/sshd -t -f ${SSHD_CONFIG} && pkill -HUP -o -x sshd`]), 0);
  await waitFor('the control login to work', async () => (await controlReadFile(target, '/etc/hostname').catch(() => undefined)) !== undefined);
});

after(() => {
  closeControl();
  rmSync(scratch, { recursive: true, force: true });
});

function collect(s: Readable | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!s) return resolve('');
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

async function run(spec: Partial<ExecSpec> & { cmd: string[] }, input?: string, t: ControlTarget = target): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = await controlExec(t, { tty: false, stdin: input !== undefined, ...spec });
  const out = collect(proc.stdout);
  const err = collect(proc.stderr);
  if (input !== undefined) proc.stdin!.end(input);
  const code = await proc.wait();
  return { code, stdout: await out, stderr: await err };
}

describe('control over ssh with a CA certificate', { timeout: 120_000 }, () => {
  test('commands run as root by default, with the exit status passed on', async () => {
    const r = await run({ cmd: ['id', '-u'] });
    assert.deepEqual(r, { code: 0, stdout: '0\n', stderr: '' });
    assert.equal((await run({ cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'] })).code, 7);
    const split = await run({ cmd: ['sh', '-c', 'echo out; echo err >&2'] });
    assert.equal(split.stdout, 'out\n');
    assert.equal(split.stderr, 'err\n');
    // Calls share one connection (one ControlMaster), not one handshake each: while one
    // runs, another sees a single root connection.
    const held = await controlExec(target, { cmd: ['cat'], tty: false, stdin: true });
    const connections = await run({ cmd: ['sh', '-c', "ps -eo args | grep -c '^sshd: root@'"] });
    held.stdin!.end();
    held.stdout.resume();
    assert.equal(await held.wait(), 0);
    assert.equal(connections.stdout.trim(), '1');
  });

  test('as the env user: uid, groups, HOME, the env vars and the workdir it is given', async () => {
    const uid = (await run({ cmd: ['id', '-u', user] })).stdout.trim();
    const r = await run({ cmd: ['sh', '-c', 'id -u; id -un; echo "$HOME"; pwd; echo "$FOO|$BAR"'], user, env: ['FOO=one two', 'BAR=$(x)'], workdir: '/tmp' });
    assert.equal(r.code, 0, r.stderr);
    const [gotUid, gotName, home, cwd, vars] = r.stdout.split('\n');
    assert.equal(gotUid, uid);
    assert.equal(gotName, user);
    assert.equal(home, `/home/${user}`);
    assert.equal(cwd, '/tmp');
    assert.equal(vars, 'one two|$(x)');
  });

  test('in an image without setpriv, su runs the command as the user', async () => {
    assert.equal((await run({ cmd: ['mv', '/usr/bin/setpriv', '/usr/bin/setpriv.off'] })).code, 0);
    try {
      const r = await run({ cmd: ['sh', '-c', 'id -un; echo "$HOME|$FOO"; pwd; cat'], user, env: ['FOO=a $(b)'], workdir: '/tmp' }, 'piped\n');
      assert.deepEqual(r, { code: 0, stdout: `${user}\n/home/${user}|a $(b)\n/tmp\npiped\n`, stderr: '' });
      assert.equal((await run({ cmd: ['sh', '-c', 'exit 5'], user })).code, 5);
    } finally {
      await run({ cmd: ['mv', '/usr/bin/setpriv.off', '/usr/bin/setpriv'] });
    }
  });

  test("the container's environment comes through, as with the engine's exec", async () => {
    const viaEngine = await engine.exec(id, { cmd: ['printenv', 'PATH'], tty: false, stdin: false });
    const enginePath = (await collect(viaEngine.stdout)).trim();
    await viaEngine.wait();
    assert.equal((await run({ cmd: ['printenv', 'PATH'] })).stdout.trim(), enginePath);
  });

  test('uid, gid and groups as the engine gives them, for a name, name:group and a bare uid', async () => {
    for (const who of [user, `${user}:root`, '4242', '4242:4243', 'root']) {
      const viaEngine = await engine.exec(id, { cmd: ['id'], user: who, tty: false, stdin: false });
      const expected = (await collect(viaEngine.stdout)).trim();
      assert.equal(await viaEngine.wait(), 0);
      assert.equal((await run({ cmd: ['id'], user: who })).stdout.trim(), expected, `as ${who}`);
    }
    await assert.rejects(run({ cmd: ['id'], user: 'nobody-here' }), /no user 'nobody-here'/);
  });

  test('a command killed by a signal, one not found and a missing workdir report like a shell', async () => {
    assert.equal((await run({ cmd: ['sh', '-c', 'kill -9 $$'] })).code, 137);
    assert.equal((await run({ cmd: ['no-such-command'] })).code, 127);
    const r = await run({ cmd: ['pwd'], workdir: '/no/such/dir' });
    assert.equal(r.code, 126);
    assert.match(r.stderr, /no\/such\/dir/);
  });

  test('argv with spaces, quotes and $() arrives literally', async () => {
    const words = ['a b', "it's", '"q"', '$(touch /tmp/pwned)', '`id`', '*', '; exit 3', '\\n', ''];
    const r = await run({ cmd: ['printf', '[%s]\\n', ...words] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, words.map((w) => `[${w}]\n`).join(''));
    assert.equal((await run({ cmd: ['test', '-e', '/tmp/pwned'] })).code, 1);
  });

  test('stdin is piped through and its EOF ends the command', async () => {
    const r = await run({ cmd: ['sh', '-c', 'wc -c; cat >/dev/null; echo done'], user }, 'hello\nworld\n');
    assert.deepEqual(r, { code: 0, stdout: '12\ndone\n', stderr: '' });
  });

  test('a TTY exec: one output stream on a terminal, resizable', async () => {
    const proc = await controlExec(target, { cmd: ['sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; read line; echo "got $line"; stty size'], tty: true, stdin: true, user });
    assert.equal(proc.stderr, undefined);
    const out = collect(proc.stdout);
    await proc.resize(101, 33);
    proc.stdin!.write('hi\n');
    assert.equal(await proc.wait(), 0);
    const text = (await out).replace(/\r/g, '');
    assert.match(text, /^on-a-tty\n/);
    assert.match(text, /got hi\n/);
    assert.match(text, /33 101\n/);
  });

  test('the end of a TTY exec\'s stdin is an end of input on its terminal', async () => {
    for (const input of ['abc\n', 'partial line']) {
      const proc = await controlExec(target, { cmd: ['sh', '-c', 'wc -c; echo after-eof'], tty: true, stdin: true });
      const out = collect(proc.stdout);
      proc.stdin!.end(input);
      assert.equal(await proc.wait(), 0);
      assert.match((await out).replace(/\r/g, ''), new RegExp(`^${input.trim()}\n?${input.length}\nafter-eof\n$`));
    }
  });

  test('files are put with their modes and owners, and read back', async () => {
    const uid = Number((await run({ cmd: ['id', '-u', user] })).stdout.trim());
    const dir = `/tmp/ctl-${box.runId}`;
    await controlPutFiles(
      target,
      [{ path: dir, mode: 0o750, uid, gid: uid }],
      [
        { path: `${dir}/secret`, content: 'top\nsecret\n', mode: 0o600, uid, gid: uid },
        { path: `${dir}/bin.dat`, content: Buffer.from([0, 1, 2, 255, 10, 0]), mode: 0o644 },
      ],
    );
    const r = await run({ cmd: ['stat', '-c', '%n %a %u %g', dir, `${dir}/secret`, `${dir}/bin.dat`] });
    assert.equal(r.stdout, `${dir} 750 ${uid} ${uid}\n${dir}/secret 600 ${uid} ${uid}\n${dir}/bin.dat 644 0 0\n`);
    assert.equal((await controlReadFile(target, `${dir}/secret`))?.toString(), 'top\nsecret\n');
    assert.deepEqual(await controlReadFile(target, `${dir}/bin.dat`), Buffer.from([0, 1, 2, 255, 10, 0]));
    assert.equal(await controlReadFile(target, `${dir}/missing`), undefined);
    assert.equal(await controlReadFile(target, "/tmp/no such 'file'"), undefined);
  });

  test("a certificate from another CA is refused", async () => {
    const other = { ...target, caPrivateKey: generateEd25519('other-ca').privateKey };
    await assert.rejects(controlExec(other, { cmd: ['true'], tty: false, stdin: false }), (err: unknown) => err instanceof ControlSshError && err.reason === 'denied');
  });

  test('a host key other than the env\'s is refused', async () => {
    const wrong = { ...target, hostPublicKey: generateEd25519('not-the-env').publicKey };
    await assert.rejects(controlReadFile(wrong, '/etc/hostname'), (err: unknown) => err instanceof ControlSshError && err.reason === 'host-key' && /host key/.test(err.message));
  });

  test('a port nothing listens on is reported as refused', async () => {
    const closed = { ...target, port: 1 };
    await assert.rejects(controlReadFile(closed, '/etc/hostname'), (err: unknown) => err instanceof ControlSshError && err.reason === 'refused');
  });

  test('root with a plain key is refused, wherever the key is put', async () => {
    const plain = generateEd25519('plain');
    await controlPutFiles(
      target,
      [{ path: '/root/.ssh', mode: 0o700 }],
      [
        { path: '/root/.ssh/authorized_keys', content: plain.publicKey + '\n', mode: 0o600 },
        { path: '/etc/spoon/authorized_keys/root', content: plain.publicKey + '\n', mode: 0o644 },
      ],
    );
    const keyFile = join(scratch, 'plain');
    writeFileSync(keyFile, plain.privateKey, { mode: 0o600 });
    const knownHosts = join(scratch, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${target.port} ${target.hostPublicKey}\n`);
    const ssh = (who: string) =>
      host('ssh', ['-F', 'none', '-p', String(target.port), '-i', keyFile, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '--', `${who}@127.0.0.1`, 'id -u']);
    const asRoot = ssh('root');
    assert.notEqual(asRoot.code, 0);
    assert.match(asRoot.stderr, /Permission denied/);
    // The same kind of key still works where spoon allows keys: the env user with its own.
    await controlPutFiles(target, [], [{ path: `/etc/spoon/authorized_keys/${user}`, content: plain.publicKey + '\n', mode: 0o644 }]);
    assert.equal(ssh(user).code, 0);
  });
});
