/** idle_stop's pure parts: the watcher's config file, its check interval, and reading what it reports. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IDLE_CONFIG, IDLE_CPU_PERCENT, IDLE_SCRIPT, IDLE_WATCHER, checkInterval, idleConfigFile, idleLabel, parseIdleFile } from '../../src/core/idle-stop.js';
import { ENTRYPOINT, provisioningFiles } from '../../src/core/provision.js';

describe('idle_stop', () => {
  test('the check interval is a tenth of the duration, from 1 s to 60 s', () => {
    assert.equal(checkInterval(6), 1);
    assert.equal(checkInterval(30), 3);
    assert.equal(checkInterval(600), 60);
    assert.equal(checkInterval(7200), 60);
  });

  test('the config file holds seconds, interval and CPU threshold, and is empty when off', () => {
    assert.equal(idleConfigFile(7200).content, `7200 60 ${IDLE_CPU_PERCENT}\n`);
    assert.equal(idleConfigFile(undefined).content, '');
    assert.equal(idleLabel(5400), '1h30m');
  });

  test('every provisioned env gets the watcher and its config (empty when off, so a snapshot passes none on)', () => {
    const base = { containerId: 'c0ffee42', user: 'dev', env: {}, hostPrivateKey: 'K\n', hostPublicKey: 'ssh-ed25519 AAAA h', authorizedKeys: [] };
    const off = provisioningFiles(base).files;
    assert.equal(off.find((f) => f.path === IDLE_CONFIG)?.content, '');
    assert.equal(off.find((f) => f.path === IDLE_SCRIPT)?.content, IDLE_WATCHER);
    assert.equal(provisioningFiles({ ...base, idleStop: 6 }).files.find((f) => f.path === IDLE_CONFIG)?.content, `6 1 ${IDLE_CPU_PERCENT}\n`);
    assert.equal(off.at(-1)?.path, '/etc/spoon/provisioned', 'the marker stays last');
  });

  test('the main process starts the watcher only when the config is not empty', () => {
    assert.match(ENTRYPOINT[2] ?? '', new RegExp(`\\[ -s ${IDLE_CONFIG} \\] && ${IDLE_SCRIPT} < /dev/null &`));
  });

  test('the report reads as idle seconds and check time; anything else is unknown', () => {
    assert.deepEqual(parseIdleFile(Buffer.from('42 1700000000\n')), { idle: 42, checkedAt: 1700000000 });
    assert.equal(parseIdleFile(undefined), null);
    assert.equal(parseIdleFile(''), null);
    assert.equal(parseIdleFile('x 1'), null);
  });
});
