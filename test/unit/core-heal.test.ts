/**
 * Healing's escalation (src/core/heal.ts) against the in-memory engine: each step is
 * tried only when the one before did not bring sshd back, a recreate is asked for and
 * keeps the volumes, and it uses the plan the container was made from. Each failing
 * step costs waitForSshd's "sshd is not running" check (about two seconds).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureEnv } from '../../src/core/ensure-env.js';
import { withHealing, type ConfirmRecreate } from '../../src/core/heal.js';
import type { EnvPlan } from '../../src/core/plan.js';
import { START_SSHD } from '../../src/core/provision.js';
import { fakeSetup, type FakeSetup } from '../support/fake-context.js';

let s: FakeSetup;
beforeEach(() => (s = fakeSetup()));
afterEach(() => s.dispose());

const heal = (plan: EnvPlan, confirm: ConfirmRecreate = undefined) =>
  withHealing(s.ctx, 'web', plan, confirm, async () => undefined, (p) => ensureEnv(s.ctx, 'web', p, { explicitSettings: false }));

const healedBy = () => s.said.filter((x) => x.message.startsWith('web: healed by')).map((x) => x.message);

describe('healing', { timeout: 60_000 }, () => {
  test('a dead sshd in a running container: started again through the engine, nothing restarted', async () => {
    const plan = s.plan();
    const first = await heal(plan);
    s.engine.killSshd(first.container.id);
    s.engine.calls.length = 0;

    const ready = await heal(plan);
    assert.equal(ready.container.id, first.container.id);
    assert.deepEqual(healedBy(), ['web: healed by starting its sshd']);
    const starts = s.engine.execs.filter((e) => JSON.stringify(e.cmd) === JSON.stringify(START_SSHD));
    assert.deepEqual(starts.map((e) => e.user), ['root']);
    assert.deepEqual(s.engine.methods('restartContainer', 'removeContainer', 'createContainer'), []);
  });

  test('when sshd will not start by hand, the container is restarted', async () => {
    const plan = s.plan();
    const first = await heal(plan);
    const c = s.engine.container(first.container.id)!;
    c.sshd.onExec = false;
    s.engine.killSshd(c.id);
    s.engine.calls.length = 0;

    await heal(plan);
    assert.deepEqual(healedBy(), ['web: healed by restarting its container']);
    assert.deepEqual(s.engine.methods('restartContainer', 'removeContainer', 'createContainer'), ['restartContainer']);
  });

  test('nobody to ask: no recreate, an error that says how, and the container is left as it is', async () => {
    const plan = s.plan();
    const first = await heal(plan);
    const c = s.engine.container(first.container.id)!;
    c.sshd = { onStart: false, onExec: false };
    s.engine.killSshd(c.id);
    s.engine.calls.length = 0;

    await assert.rejects(heal(plan), (err: Error & { hint?: string }) => {
      assert.match(err.message, /^web does not come up: sshd is not running in spoon-web/);
      assert.match(err.hint ?? '', /spoon up web -N --yes/);
      return true;
    });
    assert.ok(s.engine.container(c.id), 'the container is kept');
    assert.deepEqual(s.engine.methods('restartContainer', 'removeContainer', 'createContainer'), ['restartContainer']);
  });

  test('a recreate is asked for, keeps the home volume, and uses the plan the container was made from', async () => {
    const made = s.plan({ env: { MADE_WITH: 'first' } });
    const first = await heal(made);
    await s.engine.putFiles(first.container.id, [], [{ path: '/home/dev/notes.txt', content: 'keep me', mode: 0o644 }]);
    const c = s.engine.container(first.container.id)!;
    c.sshd = { onStart: false, onExec: false };
    s.engine.killSshd(c.id);

    const asked: string[] = [];
    const today = s.plan({ env: { MADE_WITH: 'today' } });
    const ready = await heal(today, async (q) => (asked.push(q), true));
    assert.equal(asked.length, 1);
    assert.match(asked[0]!, /Recreate its container from its image\? Its volumes are kept/);
    assert.deepEqual(healedBy(), ['web: healed by recreating its container']);
    assert.notEqual(ready.container.id, c.id);
    assert.equal(s.engine.container(c.id), undefined);
    assert.deepEqual(s.engine.envContainer('web')!.spec.env, ['MADE_WITH=first']);
    assert.equal(s.engine.fileIn(ready.container.id, '/home/dev/notes.txt'), 'keep me');
  });

  test('a container that stops as soon as it starts is neither sshd-started nor restarted: straight to the question', async () => {
    const plan = s.plan();
    const first = await heal(plan);
    const c = s.engine.container(first.container.id)!;
    await s.engine.stopContainer(c.id, 1);
    c.sshd.exitOnStart = { code: 1, log: 'sshd: fatal' };
    s.engine.calls.length = 0;
    const asked: string[] = [];

    await assert.rejects(heal(plan, async (q) => (asked.push(q), false)), /web does not come up: spoon-web stopped while spoon waited for its sshd/);
    assert.equal(asked.length, 1);
    assert.deepEqual(s.engine.execs, []);
    assert.deepEqual(s.engine.methods('restartContainer', 'removeContainer'), []);
  });

  test('errors that are not about sshd are not healed', async () => {
    s.engine.failNext('createContainer', new Error('disk full'));
    await assert.rejects(heal(s.plan(), async () => assert.fail('must not ask')), /disk full/);
    assert.deepEqual(s.engine.methods('restartContainer', 'exec'), []);
  });
});
