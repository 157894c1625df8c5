import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOptions } from '../../src/config/schema.js';
import { decodePlan, encodePlan, planEnv, planHash } from '../../src/core/plan.js';

describe('the plan label (healing recreates from it)', () => {
  const options = { ...defaultOptions(), image: 'example/dev:1', memory: 512 * 1024 * 1024, ports: [{ host: 8080, container: 80, protocol: 'tcp' as const }], labels: { team: 'a' }, env: { A: '1' } };
  const plan = planEnv(options, undefined);

  test('round-trips to a plan with the same hash', () => {
    const back = decodePlan(encodePlan(plan), planHash(plan));
    assert.ok(back);
    assert.equal(planHash(back), planHash(plan));
    assert.deepEqual(back.options.ports, plan.options.ports);
    assert.deepEqual(back.image, { kind: 'ref', ref: 'example/dev:1' });
  });

  test('leaves out --from: a recreate must not restore the snapshot over the volumes', () => {
    const back = decodePlan(encodePlan({ ...plan, from: { name: 'old', tag: 't' } }), planHash(plan));
    assert.ok(back);
    assert.equal(back.from, undefined);
  });

  test('a label that does not hash to the config-hash label, or is not JSON, is ignored', () => {
    const edited = encodePlan({ ...plan, options: { ...options, memory: 1024 } });
    assert.equal(decodePlan(edited, planHash(plan)), undefined);
    assert.equal(decodePlan('{not json', planHash(plan)), undefined);
    assert.equal(decodePlan('null', planHash(plan)), undefined);
    assert.equal(decodePlan(undefined, planHash(plan)), undefined);
    assert.equal(decodePlan(encodePlan(plan), undefined), undefined);
  });
});
