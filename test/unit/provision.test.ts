import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpoonSshd } from '../../src/core/wait-sshd.js';
import { ENTRYPOINT, HOST_KEY, PROVISIONED, isProvisionedFor, SPOON_DIR, SSHD_CONFIG, findPasswdEntry, provisioningFiles, sshdConfig } from '../../src/core/provision.js';

describe('sshdConfig', () => {
  const lines = sshdConfig('dev', 'c0ffee42').split('\n');
  for (const expected of [
    'PasswordAuthentication no',
    'PermitRootLogin no',
    'AllowUsers dev spoon-guest-*',
    'PubkeyAuthentication yes',
    'PermitEmptyPasswords no',
    'KbdInteractiveAuthentication no',
    `HostKey ${HOST_KEY}`,
  ]) {
    test(`has the line ${JSON.stringify(expected)}`, () => {
      assert.ok(lines.includes(expected), sshdConfig('dev', 'c0ffee42'));
    });
  }
  test('never enables passwords or root', () => {
    for (const line of lines) {
      assert.ok(!/^PasswordAuthentication\s+yes/i.test(line), line);
      assert.ok(!/^PermitRootLogin\s+(yes|prohibit-password|without-password)/i.test(line), line);
    }
  });
  test('AllowUsers follows the user', () => {
    const other = sshdConfig('alice', 'c0ffee42').split('\n');
    assert.ok(other.includes('AllowUsers alice spoon-guest-*'), 'the user, and pairing guests by their prefix');
    assert.ok(!other.includes('AllowUsers dev'));
  });
  test('ends with a newline', () => {
    assert.ok(sshdConfig('dev', 'c0ffee42').endsWith('\n'));
  });
  test('env becomes quoted SetEnv lines (sessions do not inherit the container env)', () => {
    const lines = sshdConfig('dev', 'c0ffee42', { FOO: 'bar baz', Q: 'say "hi"', B: 'a\\b' }).split('\n');
    // All on one line: sshd honours only the first SetEnv directive.
    assert.equal(lines.filter((l) => l.startsWith('SetEnv')).length, 1);
    assert.ok(lines.includes('SetEnv "FOO=bar baz" "Q=say \\"hi\\"" "B=a\\\\b"'), lines.join('\n'));
    assert.ok(!sshdConfig('dev', 'c0ffee42').includes('SetEnv'));
  });

  test("guests' keys come only from this container's guest folder, and guests get no forwarding", () => {
    const text = sshdConfig('dev', 'c0ffee42');
    const match = text.indexOf('Match User spoon-guest-*');
    assert.ok(match > text.indexOf('SetEnv') && match > text.indexOf('AuthorizedKeysFile'), 'the Match block comes after every global line');
    const block = text.slice(match).split('\n').map((l) => l.trim());
    assert.ok(block.includes('AuthorizedKeysFile /etc/spoon/guests/c0ffee42/%u.keys'), text);
    assert.ok(block.includes('DisableForwarding yes'), text);
    assert.ok(text.split('\n').includes('PermitUserEnvironment SPOON_WHO'), 'members name themselves through their key, and nothing else');
  });
});

describe('provisioningFiles', () => {
  const input = { containerId: 'c0ffee42', user: 'dev', env: {}, hostPrivateKey: 'PRIVATE\n', hostPublicKey: 'ssh-ed25519 AAAA host', authorizedKeys: ['ssh-ed25519 K1 a', 'ssh-ed25519 K2 b'] };
  const { dirs, files } = provisioningFiles(input);

  test('constants', () => {
    assert.equal(SSHD_CONFIG, '/etc/spoon/sshd_config');
    assert.equal(HOST_KEY, '/etc/spoon/ssh_host_ed25519_key');
    assert.ok(ENTRYPOINT.join(' ').includes(`-f ${SSHD_CONFIG}`));
  });

  test('the host private key is mode 0600', () => {
    const key = files.find((f) => f.path === HOST_KEY);
    assert.ok(key);
    assert.equal(key.mode, 0o600);
    assert.equal(key.content, 'PRIVATE\n');
  });

  test('the host public key ends with a newline', () => {
    const pub = files.find((f) => f.path === `${HOST_KEY}.pub`);
    assert.ok(pub);
    assert.equal(pub.content, 'ssh-ed25519 AAAA host\n');
  });

  test('the provisioned marker is the last file, right after sshd_config, and names its container', () => {
    assert.equal(files.at(-1)?.path, PROVISIONED);
    assert.equal(files.at(-1)?.content, 'c0ffee42\n');
    // A marker committed into an image from another env (a snapshot) does not count.
    assert.equal(isProvisionedFor(Buffer.from('c0ffee42\n'), 'c0ffee42'), true);
    assert.equal(isProvisionedFor(Buffer.from('deadbeef\n'), 'c0ffee42'), false);
    assert.equal(isProvisionedFor(undefined, 'c0ffee42'), false);
    const config = files.at(-2);
    assert.equal(config?.path, SSHD_CONFIG);
    assert.equal(config?.content, sshdConfig('dev', 'c0ffee42'));
    assert.equal(files.filter((f) => f.path === SSHD_CONFIG).length, 1);
  });

  test('authorized_keys for the user', () => {
    const ak = files.filter((f) => f.path.startsWith(`${SPOON_DIR}/authorized_keys/`));
    assert.equal(ak.length, 1);
    const [file] = ak;
    assert.ok(file);
    assert.ok(file.path.endsWith('/dev'));
    assert.equal(file.path, '/etc/spoon/authorized_keys/dev');
    assert.equal(file.content, 'ssh-ed25519 K1 a\nssh-ed25519 K2 b\n');
  });

  test('no file is group or world writable, and the dirs exist', () => {
    for (const f of files) assert.equal(f.mode & 0o022, 0, f.path);
    assert.deepEqual(
      dirs.map((d) => d.path),
      [SPOON_DIR, `${SPOON_DIR}/authorized_keys`, `${SPOON_DIR}/guests`, `${SPOON_DIR}/guests/c0ffee42`],
    );
    for (const d of dirs) assert.equal(d.mode & 0o022, 0, d.path);
  });

  test('the pairing helper is root-owned and executable, and names the owner', () => {
    const helper = files.find((f) => f.path === '/etc/spoon/pair');
    assert.ok(helper);
    assert.equal(helper.mode, 0o755);
    assert.equal(helper.uid ?? 0, 0);
    assert.ok(String(helper.content).startsWith('#!/bin/sh\n'));
    assert.equal(files.find((f) => f.path === '/etc/spoon/owner')?.content, 'dev\n');
  });

  test('the sshd config names the user given', () => {
    const files2 = provisioningFiles({ ...input, user: 'alice' }).files;
    assert.ok(files2.some((f) => f.path === '/etc/spoon/authorized_keys/alice'));
    assert.ok(String(files2.find((f) => f.path === SSHD_CONFIG)?.content).includes('AllowUsers alice'));
  });
});

describe('findPasswdEntry', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'dev:x:1000:1001:Dev User,,,:/home/dev:/bin/bash',
    'de:x:1002:1002::/home/de:/bin/sh',
    'developer:x:1003:1003::/srv/developer:/bin/sh',
    'broken:x:5',
    '',
  ].join('\n');

  const cases: [string, { uid: number; gid: number; home: string } | undefined][] = [
    ['dev', { uid: 1000, gid: 1001, home: '/home/dev' }],
    ['root', { uid: 0, gid: 0, home: '/root' }],
    ['developer', { uid: 1003, gid: 1003, home: '/srv/developer' }],
    ['de', { uid: 1002, gid: 1002, home: '/home/de' }],
    ['nobody', undefined],
    ['d', undefined],
    ['devel', undefined],
    ['broken', undefined],
    ['', undefined],
  ];
  for (const [user, expected] of cases) {
    test(`${JSON.stringify(user)}`, () => {
      assert.deepEqual(findPasswdEntry(passwd, user), expected);
    });
  }

  test('a prefix of an existing user does not match', () => {
    const only = 'developer:x:1003:1003::/srv/developer:/bin/sh\n';
    assert.equal(findPasswdEntry(only, 'dev'), undefined);
    assert.equal(findPasswdEntry(only, 'de'), undefined);
  });

  test('empty passwd', () => {
    assert.equal(findPasswdEntry('', 'dev'), undefined);
  });
});

describe('isSpoonSshd', () => {
  test("spoon's listener, before and after it renames itself", () => {
    assert.equal(isSpoonSshd(`/usr/sbin/sshd -D -e -f ${SSHD_CONFIG}`), true);
    assert.equal(isSpoonSshd(`sshd: /usr/sbin/sshd -f ${SSHD_CONFIG} -E /proc/1/fd/2 [listener] 0 of 10-100 startups`), true);
  });

  test('not its sessions, the entrypoint shell, or another sshd', () => {
    assert.equal(isSpoonSshd('sshd: dev@pts/0'), false);
    assert.equal(isSpoonSshd('sshd: dev [priv]'), false);
    assert.equal(isSpoonSshd(ENTRYPOINT.join(' ')), false);
    assert.equal(isSpoonSshd('/usr/sbin/sshd -D'), false);
  });
});
