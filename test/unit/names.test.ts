import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { containerName, homeVolumeName, hostnameFor, parseSnapshotRef, snapshotRepo, snapshotVolumeName, validateName } from '../../src/core/names.js';
import { timestampTag } from '../../src/core/snapshot.js';
import { UsageError } from '../../src/errors.js';

describe('validateName', () => {
  const valid = ['a', '0', 'demo', 'my-env', 'my_env.2', '9lives', 'a-', 'a.', 'a_b_c', 'a'.repeat(63), '0'.repeat(63)];
  for (const name of valid) {
    test(`accepts ${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)}`, () => {
      assert.equal(validateName(name), name);
    });
  }

  const invalid: [string, string][] = [
    ['64 chars', 'a'.repeat(64)],
    ['empty', ''],
    ['uppercase', 'Demo'],
    ['all uppercase', 'DEMO'],
    ['leading dash', '-demo'],
    ['leading underscore', '_demo'],
    ['leading dot', '.demo'],
    ['unicode', 'démo'],
    ['emoji', 'env🥄'],
    ['space', 'my env'],
    ['slash', 'a/b'],
    ['colon', 'a:b'],
    ['trailing newline', 'demo\n'],
    ['leading newline', '\ndemo'],
    ['tab', 'de\tmo'],
  ];
  for (const [what, name] of invalid) {
    test(`rejects ${what}`, () => {
      assert.throws(
        () => validateName(name),
        (err: unknown) => {
          assert.ok(err instanceof UsageError);
          assert.equal(err.exitCode, 2);
          assert.ok(err.message.includes(`'${name}'`), err.message);
          return true;
        },
      );
    });
  }
});

describe('hostnameFor', () => {
  const cases: [string, string][] = [
    ['demo', 'demo'],
    ['my-env', 'my-env'],
    ['my_env', 'my-env'],
    ['my.env', 'my-env'],
    ['a_b.c-d', 'a-b-c-d'],
    ['a_', 'a'],
    ['a.', 'a'],
    ['a-_.', 'a'],
    ['0', '0'],
    ['a'.repeat(63), 'a'.repeat(63)],
  ];
  for (const [name, expected] of cases) {
    test(`${name.length > 20 ? `a×${name.length}` : name} → ${expected.length > 20 ? `a×${expected.length}` : expected}`, () => {
      const h = hostnameFor(name);
      assert.equal(h, expected);
      // Whatever the NAME, the result is a valid RFC 1123 label.
      assert.match(h, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    });
  }
});

describe('homeVolumeName and containerName', () => {
  test('homeVolumeName', () => {
    assert.equal(homeVolumeName('demo'), 'spoon-demo-home');
    assert.equal(homeVolumeName('a.b_c'), 'spoon-a.b_c-home');
  });
  test('containerName', () => {
    assert.equal(containerName('spoon-', 'demo'), 'spoon-demo');
    assert.equal(containerName('x', 'demo'), 'xdemo');
  });
});

describe('snapshot names', () => {
  test('volumes: spoon-snap-NAME-TAG-<slug of the persist path>', () => {
    assert.equal(snapshotVolumeName('demo', 't1', '~'), 'spoon-snap-demo-t1-home');
    assert.equal(snapshotVolumeName('demo', 't1', '~/.cache'), 'spoon-snap-demo-t1-home-cache');
    assert.equal(snapshotVolumeName('demo', '20261123-205412', '/var/lib/postgresql'), 'spoon-snap-demo-20261123-205412-var-lib-postgresql');
  });
  test('image repository: a valid repository component whatever the NAME', () => {
    const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
    for (const name of ['demo', 'my-env', 'a.', 'a-', 'a..b', 'a._b', 'a__b', '0', '-']) {
      const repo = snapshotRepo(name);
      assert.match(repo, /^spoon-snapshot\//);
      assert.match(repo.slice('spoon-snapshot/'.length), component, name);
    }
    assert.equal(snapshotRepo('my-env'), 'spoon-snapshot/my-env');
  });
  test('NAME:TAG parses; anything else is a usage error', () => {
    assert.deepEqual(parseSnapshotRef('demo:t1'), { name: 'demo', tag: 't1' });
    for (const bad of ['demo', 'demo:', ':t1', 'Demo:t1', 'demo:-x', 'demo:a/b', 'a:b:c']) {
      assert.throws(() => parseSnapshotRef(bad), UsageError, bad);
    }
  });
  test('the default TAG is the UTC time', () => {
    assert.equal(timestampTag(new Date('2026-11-23T20:54:12.345Z')), '20261123-205412');
  });
});
