import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEd25519, parsePublicKey } from '../../src/ssh/keys.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoon-keys-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('generateEd25519', () => {
  // Comments of several lengths so the private section's padding varies.
  const comments = ['spoon-host-demo', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'user@host.example'];
  comments.forEach((comment, n) => {
    test(`ssh-keygen reads the key pair (comment ${JSON.stringify(comment)})`, () => {
      const { privateKey, publicKey } = generateEd25519(comment);
      assert.match(privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
      for (const line of privateKey.split('\n')) assert.ok(line.length <= 70, `line too long: ${line.length}`);
      const pubFields = publicKey.split(' ');
      assert.equal(pubFields[0], 'ssh-ed25519');
      assert.equal(pubFields.slice(2).join(' '), comment);

      const priv = join(dir, `id_${n}`);
      writeFileSync(priv, privateKey, { mode: 0o600 });
      chmodSync(priv, 0o600);
      const derived = spawnSync('ssh-keygen', ['-y', '-f', priv], { encoding: 'utf8' });
      assert.equal(derived.status, 0, derived.stderr);
      const derivedFields = derived.stdout.trim().split(/\s+/);
      assert.deepEqual(derivedFields.slice(0, 2), pubFields.slice(0, 2));

      const pub = join(dir, `id_${n}.pub`);
      writeFileSync(pub, publicKey + '\n');
      const fp = spawnSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' });
      assert.equal(fp.status, 0, fp.stderr);
      assert.match(fp.stdout, /^256 SHA256:\S+ .*\(ED25519\)\n$/);
      assert.ok(fp.stdout.includes(comment));

      // The private key file's own fingerprint matches the public key's.
      const fpPriv = spawnSync('ssh-keygen', ['-l', '-f', priv], { encoding: 'utf8' });
      assert.equal(fpPriv.status, 0, fpPriv.stderr);
      assert.equal(fpPriv.stdout.split(' ')[1], fp.stdout.split(' ')[1]);
    });
  });

  test('each call makes a new key', () => {
    const a = generateEd25519('x');
    const b = generateEd25519('x');
    assert.notEqual(a.publicKey, b.publicKey);
    assert.notEqual(a.privateKey, b.privateKey);
  });
});

describe('parsePublicKey', () => {
  const key = generateEd25519('spoon test');
  const blob = key.publicKey.split(' ')[1] ?? '';

  test('accepts a generated key', () => {
    assert.deepEqual(parsePublicKey(key.publicKey), { type: 'ssh-ed25519', blob, comment: 'spoon test' });
  });

  test('accepts a key without a comment and with surrounding whitespace', () => {
    assert.deepEqual(parsePublicKey(`ssh-ed25519 ${blob}`), { type: 'ssh-ed25519', blob, comment: '' });
    assert.deepEqual(parsePublicKey(`  ssh-ed25519\t${blob}  c  `), { type: 'ssh-ed25519', blob, comment: 'c' });
  });

  const rejected: [string, string][] = [
    ['empty line', ''],
    ['blank line', '   '],
    ['garbage', 'hello world'],
    ['type only', 'ssh-ed25519'],
    ['unknown type', `ssh-dss ${blob}`],
    ['type mismatch (rsa prefix, ed25519 blob)', `ssh-rsa ${blob} c`],
    ['type mismatch (ecdsa prefix, ed25519 blob)', `ecdsa-sha2-nistp256 ${blob}`],
    ['not base64', 'ssh-ed25519 !!!notbase64!!!'],
    ['too short blob', 'ssh-ed25519 AAAA'],
    ['blob of another type string', `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa')]).toString('base64')}`],
    ['options before the key (authorized_keys style)', `no-pty ssh-ed25519 ${blob}`],
    ['comment line', `# ssh-ed25519 ${blob}`],
  ];
  for (const [what, line] of rejected) {
    test(`rejects ${what}`, () => {
      assert.equal(parsePublicKey(line), undefined);
    });
  }
});
