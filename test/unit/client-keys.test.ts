import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClientKey } from '../../src/core/client-keys.js';
import { statePaths } from '../../src/state/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'spoon-client-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("spoon's client key", () => {
  test('made once, private 0600, then reused', () => {
    const paths = statePaths({ XDG_STATE_HOME: join(dir, 'a') });
    const first = ensureClientKey(paths, {});
    assert.match(first, /^ssh-ed25519 \S+/);
    assert.equal(statSync(paths.clientKey).mode & 0o777, 0o600);
    assert.equal(ensureClientKey(paths, {}), first);
  });

  test('a private key without its public half (a run killed between them): the public half is derived, not a new pair', () => {
    const paths = statePaths({ XDG_STATE_HOME: join(dir, 'b') });
    const original = ensureClientKey(paths, {});
    const privateKey = readFileSync(paths.clientKey, 'utf8');
    rmSync(paths.clientPublicKey);
    const again = ensureClientKey(paths, {});
    assert.equal(again.split(' ').slice(0, 2).join(' '), original.split(' ').slice(0, 2).join(' '));
    assert.equal(readFileSync(paths.clientKey, 'utf8'), privateKey, 'the private key is kept');
    assert.equal(readFileSync(paths.clientPublicKey, 'utf8').trim(), again);
  });

  test('a public half without its private key: a new pair that matches', () => {
    const paths = statePaths({ XDG_STATE_HOME: join(dir, 'c') });
    const original = ensureClientKey(paths, {});
    rmSync(paths.clientKey);
    const fresh = ensureClientKey(paths, {});
    assert.notEqual(fresh, original);
    assert.equal(readFileSync(paths.clientPublicKey, 'utf8').trim(), fresh);
    const fromPrivate = spawnSync('ssh-keygen', ['-y', '-f', paths.clientKey], { encoding: 'utf8' }).stdout.trim();
    assert.equal(fromPrivate.split(' ').slice(0, 2).join(' '), fresh.split(' ').slice(0, 2).join(' '), 'the public half is of the private key');
  });
});
