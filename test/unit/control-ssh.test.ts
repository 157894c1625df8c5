import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateEd25519 } from '../../src/ssh/keys.js';
import { sshdConfig } from '../../src/core/provision.js';
import {
  CONTROL_CA_FILE,
  CONTROL_PRINCIPALS_FILE,
  PRELUDE,
  PtyAnnouncement,
  PTY_MARK,
  ControlSshError,
  controlFailure,
  controlFiles,
  controlSshdLines,
  execCommandLine,
  execEnvironment,
  parsePrelude,
  readFileCommand,
  resolveIdentity,
  type ExecIdentity,
} from '../../src/engine/swarm/control-ssh.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndev:x:1000:1000::/home/dev:/bin/bash\nsvc:x:999:999::/srv:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\ndev:x:1000:\ndocker:x:998:dev,svc\nstaff:x:50:svc\nsvc:x:999:\n';
const ROOT: ExecIdentity = { uid: 0, gid: 0, name: 'root', home: '/root', groups: [] };

/** Runs a command line in /bin/sh as the env's root login shell would. */
function sh(script: string, input?: string) {
  return spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', input, env: { PATH: '/usr/bin:/bin', OUTER: 'set' } });
}

describe('controlSshdLines', () => {
  /** spoon's sshd config with the control lines where the global section ends, as the lines' doc asks. */
  function withControl(): string {
    const config = sshdConfig('dev', 'c0ffee');
    const at = config.search(/^Match /m);
    return `${config.slice(0, at)}${controlSshdLines().join('\n')}\n${config.slice(at)}`;
  }

  /** `sshd -T` for a connection as `user`: the settings sshd would apply (needs the host's sshd binary, no daemon). */
  function effective(config: string, user: string): Map<string, string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'spoon-sshd-'));
    try {
      const key = generateEd25519('host');
      writeFileSync(join(dir, 'hk'), key.privateKey, { mode: 0o600 });
      writeFileSync(join(dir, 'sshd_config'), config.replace(/^HostKey .*$/m, `HostKey ${join(dir, 'hk')}`));
      const r = spawnSync('/usr/sbin/sshd', ['-T', '-f', join(dir, 'sshd_config'), '-C', `user=${user},host=h,addr=192.0.2.1`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = new Map<string, string[]>();
      for (const line of r.stdout.split('\n')) {
        const [k = '', ...v] = line.split(' ');
        out.set(k, [...(out.get(k) ?? []), v.join(' ')]);
      }
      return out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const hasSshd = spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' }).error === undefined;

  test('root: certificates from the CA file with the principals file, no keys file, no forwarding', { skip: !hasSshd && 'no sshd binary on this machine' }, () => {
    const root = effective(withControl(), 'root');
    assert.deepEqual(root.get('permitrootlogin'), ['without-password']);
    assert.deepEqual(root.get('authorizedkeysfile'), ['none']);
    assert.deepEqual(root.get('trustedusercakeys'), [CONTROL_CA_FILE]);
    assert.deepEqual(root.get('authorizedprincipalsfile'), [CONTROL_PRINCIPALS_FILE]);
    assert.deepEqual(root.get('disableforwarding'), ['yes']);
    assert.deepEqual(root.get('passwordauthentication'), ['no']);
    assert.ok(root.get('allowusers')?.includes('root'));
  });

  test('nothing changes for the env user or guests', { skip: !hasSshd && 'no sshd binary on this machine' }, () => {
    for (const user of ['dev', 'spoon-guest-ann']) {
      const before = effective(sshdConfig('dev', 'c0ffee'), user);
      const after = effective(withControl(), user);
      after.set('allowusers', (after.get('allowusers') ?? []).filter((u) => u !== 'root'));
      for (const m of [before, after]) m.delete('hostkey');
      assert.deepEqual(after, before, user);
      assert.deepEqual(after.get('trustedusercakeys'), ['none']);
    }
  });

  test('the lines end in their own Match block, so they close before the next one', () => {
    const lines = controlSshdLines();
    const match = lines.findIndex((l) => l.startsWith('Match '));
    assert.equal(lines[match], 'Match User root');
    assert.ok(lines.slice(match + 1).every((l) => l.startsWith('    ')));
    assert.ok(lines.slice(0, match).every((l) => !l.startsWith(' ')));
  });
});

describe('controlFiles', () => {
  test('the CA public key and a principals file that admits spoon-control only, restricted', () => {
    const ca = generateEd25519('my ca');
    const [caFile, principals] = controlFiles(ca.publicKey);
    assert.equal(caFile?.path, CONTROL_CA_FILE);
    assert.equal(caFile?.content, `${ca.publicKey.split(' ').slice(0, 2).join(' ')} spoon-control-ca\n`);
    assert.equal(principals?.path, CONTROL_PRINCIPALS_FILE);
    assert.equal(principals?.content, 'restrict,pty spoon-control\n');
    for (const f of [caFile, principals]) assert.deepEqual([f?.mode, f?.uid, f?.gid], [0o644, 0, 0]);
  });

  test('a CA that is not a public key is refused', () => {
    assert.throws(() => controlFiles('-----BEGIN OPENSSH PRIVATE KEY-----'), /not an OpenSSH public key/);
  });
});

describe('resolveIdentity', () => {
  test('the engine\'s rules for name, uid, name:group and uid:gid', () => {
    assert.deepEqual(resolveIdentity(undefined, PASSWD, GROUP), ROOT);
    assert.deepEqual(resolveIdentity('dev', PASSWD, GROUP), { uid: 1000, gid: 1000, name: 'dev', home: '/home/dev', groups: [998] });
    assert.deepEqual(resolveIdentity('999', PASSWD, GROUP), { uid: 999, gid: 999, name: 'svc', home: '/srv', groups: [998, 50] });
    // An explicit group replaces the supplementary ones.
    assert.deepEqual(resolveIdentity('dev:staff', PASSWD, GROUP), { uid: 1000, gid: 50, name: 'dev', home: '/home/dev', groups: [] });
    assert.deepEqual(resolveIdentity('4242', PASSWD, GROUP), { uid: 4242, gid: 0, name: undefined, home: '/', groups: [] });
    assert.deepEqual(resolveIdentity('4242:7', PASSWD, GROUP), { uid: 4242, gid: 7, name: undefined, home: '/', groups: [] });
  });

  test('unknown names are errors', () => {
    assert.throws(() => resolveIdentity('ghost', PASSWD, GROUP), /no user 'ghost'/);
    assert.throws(() => resolveIdentity('dev:ghosts', PASSWD, GROUP), /no group 'ghosts'/);
  });
});

describe('execEnvironment', () => {
  test("the container's env, HOME of the user, spec.env last", () => {
    const dev = resolveIdentity('dev', PASSWD, GROUP);
    assert.deepEqual(execEnvironment(['PATH=/opt/bin:/usr/bin', 'HOME=/root', 'LANG=C.UTF-8'], dev, ['LANG=de_DE.UTF-8', 'X=a=b']), ['PATH=/opt/bin:/usr/bin', 'HOME=/home/dev', 'LANG=de_DE.UTF-8', 'X=a=b']);
    assert.deepEqual(execEnvironment([], ROOT, ['HOME=/elsewhere', 'NOEQUALS']), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/elsewhere']);
  });
});

describe('execCommandLine', () => {
  const words = ['a b', "it's", '"q"', '$(echo pwned)', '`id`', '*', '; exit 3', '\\n', '', 'line\nbreak', 'if'];

  test('argv and env values arrive exactly, in the workdir, through a POSIX shell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoon dir '));
    try {
      const line = execCommandLine({ cmd: ['printf', '[%s]\\n', ...words], tty: false }, ROOT, [], dir);
      assert.equal(sh(line).stdout, words.map((w) => `[${w}]\n`).join(''));
      const env = execCommandLine({ cmd: ['sh', '-c', 'pwd; printf "%s|" "$V" "$HOME" "${OUTER-unset}"'], tty: false }, ROOT, ['V=$(x) \'y\'\nz', 'HOME=/h'], dir);
      assert.equal(sh(env).stdout, `${dir}\n$(x) 'y'\nz|/h|unset|`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("stdin passes through; status, a signal's 128+n, a missing program and workdir", () => {
    assert.equal(sh(execCommandLine({ cmd: ['wc', '-c'], tty: false }, ROOT, ['PATH=/usr/bin:/bin'], '/'), 'hello').stdout.trim(), '5');
    assert.equal(sh(execCommandLine({ cmd: ['sh', '-c', 'exit 7'], tty: false }, ROOT, [], '/')).status, 7);
    assert.equal(sh(execCommandLine({ cmd: ['sh', '-c', 'kill -TERM $$'], tty: false }, ROOT, [], '/')).status, 143);
    assert.equal(sh(execCommandLine({ cmd: ['no-such-program'], tty: false }, ROOT, [], '/')).status, 127);
    assert.equal(sh(execCommandLine({ cmd: ['true'], tty: false }, ROOT, [], '/no/such/dir')).status, 126);
  });

  test('another user: setpriv with the exact ids and groups, su by name where there is none', () => {
    const dev = resolveIdentity('dev', PASSWD, GROUP);
    const line = execCommandLine({ cmd: ['id'], tty: false }, dev, [], '/');
    assert.match(line, /exec setpriv --reuid=1000 --regid=1000 --groups=998 env -i -- /);
    assert.match(line, /exec su -s \/bin\/sh dev -c '/);
    assert.match(execCommandLine({ cmd: ['id'], tty: false }, { ...dev, groups: [] }, [], '/'), /--clear-groups/);
    const nameless = execCommandLine({ cmd: ['id'], tty: false }, { uid: 4242, gid: 0, name: undefined, home: '/', groups: [] }, [], '/');
    assert.match(nameless, /no setpriv, and su cannot run as uid 4242.*exit 126$/);
  });

  test('with a TTY, the terminal is announced first', () => {
    const line = execCommandLine({ cmd: ['true'], tty: true }, ROOT, [], '/');
    assert.ok(line.startsWith(`stty sane 2>/dev/null; printf '${PTY_MARK}%s\\n' "$(tty)"; exec `), line);
  });
});

describe('the prelude and readFile', () => {
  test('parsePrelude splits what PRELUDE prints, environ kept byte for byte', () => {
    const environ = Buffer.from('PATH=/bin\0MULTI=a\nspoon-control-part\nb\0EMPTY=\0');
    const out = Buffer.concat([Buffer.from(`${PASSWD}\nspoon-control-part\n${GROUP}\nspoon-control-part\n/work\nspoon-control-part\n`), environ]);
    const p = parsePrelude(out);
    assert.equal(p.passwd.trim(), PASSWD.trim());
    assert.equal(p.group.trim(), GROUP.trim());
    assert.equal(p.cwd, '/work');
    assert.deepEqual(p.environ, ['PATH=/bin', 'MULTI=a\nspoon-control-part\nb', 'EMPTY=']);
    assert.throws(() => parsePrelude(Buffer.from('motd from a profile\n')), /unexpected answer/);
  });

  test('PRELUDE runs in a POSIX shell and parses', () => {
    const r = spawnSync('/bin/sh', ['-c', PRELUDE]);
    const p = parsePrelude(r.stdout);
    assert.match(p.passwd, /^root:/m);
  });

  test('readFileCommand: the content of a regular file, 44 for none (or a directory), any path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoon-read-'));
    try {
      const odd = join(dir, "it's $(x) a file");
      writeFileSync(odd, 'data\0\n');
      assert.equal(sh(readFileCommand(odd)).stdout, 'data\0\n');
      assert.equal(sh(readFileCommand(join(dir, 'missing'))).status, 44);
      assert.equal(sh(readFileCommand(dir)).status, 44);
      assert.equal(sh(readFileCommand('-n')).status, 44);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('controlFailure', () => {
  const t = { host: '10.0.0.5', port: 2222 };
  const reasonOf = (stderr: string) => controlFailure(t, stderr).reason;

  test("ssh's words become typed reasons with the target named", () => {
    assert.equal(reasonOf('@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\nHost key verification failed.'), 'host-key');
    assert.equal(reasonOf('Host key verification failed.'), 'host-key');
    assert.equal(reasonOf('ssh: connect to host 10.0.0.5 port 2222: Connection refused'), 'refused');
    assert.equal(reasonOf('root@10.0.0.5: Permission denied (publickey).'), 'denied');
    assert.equal(reasonOf('ssh: connect to host 10.0.0.5 port 2222: Connection timed out'), 'unreachable');
    assert.equal(reasonOf('ssh: connect to host 10.0.0.5 port 2222: No route to host'), 'unreachable');
    assert.equal(reasonOf('something new'), 'ssh');
    const err = controlFailure(t, 'Connection refused');
    assert.ok(err instanceof ControlSshError);
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /10\.0\.0\.5:2222/);
    assert.ok(err.hint);
  });
});

describe('PtyAnnouncement', () => {
  async function through(chunks: string[]): Promise<{ out: string; path: string | undefined }> {
    const cut = new PtyAnnouncement();
    const out: Buffer[] = [];
    cut.on('data', (d: Buffer) => out.push(d));
    const done = new Promise((r) => cut.on('end', r));
    Readable.from(chunks.map((c) => Buffer.from(c))).pipe(cut);
    await done;
    return { out: Buffer.concat(out).toString(), path: await cut.path };
  }

  test('the first line gives the path and is cut, however the chunks fall', async () => {
    assert.deepEqual(await through([`${PTY_MARK}/dev/pts/3\r\nhello\r\n`]), { out: 'hello\r\n', path: '/dev/pts/3' });
    assert.deepEqual(await through(['spoon-con', 'trol-pty /dev/p', 'ts/4\r', '\nrest', ' of it']), { out: 'rest of it', path: '/dev/pts/4' });
  });

  test('output without the announcement passes whole', async () => {
    assert.deepEqual(await through(['plain\nlines\n']), { out: 'plain\nlines\n', path: undefined });
    assert.deepEqual(await through(['no newline']), { out: 'no newline', path: undefined });
  });
});
