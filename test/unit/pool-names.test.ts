import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL, envNameOf, volumeOwnerOf } from '../../src/core/labels.js';
import { persistVolumeName, validateName } from '../../src/core/names.js';
import { poolRefOwner, poolRefVolumeName } from '../../src/core/pool-ref.js';

const member = { [LABEL.name]: '_pool-0123abcd-ef0123', [LABEL.pool]: 'spoon-_pool-0123abcd-ef0123', [LABEL.prefix]: 'spoon-' };

describe('envNameOf', () => {
  test('an env made the slow way is named by its label', () => {
    assert.equal(envNameOf({ name: 'spoon-demo', labels: { [LABEL.name]: 'demo' } }), 'demo');
  });
  test('an env from a snapshot of a claimed env (its image carries the pool label, blanked) is named by its label', () => {
    assert.equal(envNameOf({ name: 'spoon-copy', labels: { ...member, [LABEL.name]: 'copy', [LABEL.pool]: '', [LABEL.prefix]: '' } }), 'copy');
    assert.equal(volumeOwnerOf({ labels: { ...member, [LABEL.name]: 'copy', [LABEL.pool]: '' } }), undefined);
  });
  test('a member still waiting is no env', () => {
    assert.equal(envNameOf({ name: 'spoon-_pool-0123abcd-ef0123', labels: member }), undefined);
  });
  test('a claimed member is named by its container name without the prefix', () => {
    assert.equal(envNameOf({ name: 'spoon-demo', labels: member }), 'demo');
    assert.equal(envNameOf({ name: 'team.demo', labels: { ...member, [LABEL.prefix]: 'team.' } }), 'demo');
  });
});

describe('a claimed env\'s volumes', () => {
  test('are the member\'s while its container exists', () => {
    assert.equal(volumeOwnerOf({ labels: member }), '_pool-0123abcd-ef0123');
    assert.equal(volumeOwnerOf({ labels: { [LABEL.name]: 'demo' } }), undefined);
  });
  test('are found through the ref volume once it is gone', () => {
    assert.equal(poolRefOwner([{ name: 'spoon-demo-home', labels: { [LABEL.name]: 'demo' } }]), undefined);
    assert.equal(poolRefOwner([{ name: poolRefVolumeName('demo'), labels: { [LABEL.name]: 'demo', [LABEL.poolRef]: '_pool-0123abcd-ef0123' } }]), '_pool-0123abcd-ef0123');
  });
  test('a member id is never a NAME, and the ref never a persist volume of a NAME', () => {
    assert.throws(() => validateName('_pool-0123abcd-ef0123'));
    for (const path of ['~', '~/ref', '/pool-ref', '/_pool-ref', '/']) assert.notEqual(persistVolumeName('demo', path), poolRefVolumeName('demo'));
  });
});
