/**
 * Healing: an env whose sshd cannot come up (its binary deleted, so the container
 * dies at every start) is recreated from its image with its volumes kept and the
 * settings it was made with — only with consent (--yes without a terminal) — and
 * spoon says which step fixed it. A killed sshd is started again in place.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineExec, inspect, useSandbox } from './harness.js';

const box = useSandbox();
const name = box.name('heal');

describe('healing', () => {
  test('a container that dies at start is recreated with --yes, with the settings it was made with, keeping the home', async () => {
    // Settings given only as flags at creation: the recreate must not drop them.
    await box.up(name, ['--env', 'MADE_WITH=flags', '--publish', '8080']);
    const w = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo survives > ~/keep.txt && sudo rm /usr/sbin/sshd']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await box.spoon(['stop', name])).code, 0);
    const before = (await inspect(`spoon-${name}`))?.Id;

    // No terminal and no --yes: spoon explains and says how to let it heal.
    const asked = await box.spoon(['exec', name, '--', 'cat', 'keep.txt']);
    assert.equal(asked.code, 1);
    assert.match(asked.stderr, new RegExp(`^spoon: ${name} does not come up: .*stopped while spoon waited for its sshd`, 'm'));
    assert.match(asked.stderr, /--yes/);
    assert.equal((await inspect(`spoon-${name}`))?.Id, before, 'nothing was recreated without consent');

    // No flags now: the recreated container gets them from the plan recorded on the old one.
    const healed = await box.spoon(['exec', '--yes', name, '--', 'sh', '-c', 'cat keep.txt; echo "$MADE_WITH"']);
    assert.equal(healed.code, 0, healed.stderr);
    assert.equal(healed.stdout, 'survives\nflags\n', 'the home volume and the flag-only env were kept');
    assert.match(healed.stderr, /recreating its container from its image \(its volumes are kept\)/);
    assert.match(healed.stderr, /healed by recreating its container/);
    assert.doesNotMatch(healed.stderr, /current ones/);
    const after = await inspect(`spoon-${name}`);
    assert.notEqual(after?.Id, before, 'a new container');
    assert.equal(after?.Config.Labels['test.spoon.run'], box.runId, "the creation's --label is carried over");
    assert.ok(after?.HostConfig.PortBindings['8080/tcp'], "the creation's --publish is carried over");
    // And it is a whole env again: sshd is back, the next command needs no healing.
    const next = await box.spoon(['exec', name, '--', 'test', '-x', '/usr/sbin/sshd']);
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /heal/);
  });

  test('sshd killed inside a running env: spoon starts it again, without a restart', async () => {
    const n = box.name('heal3');
    await box.up(n);
    assert.equal((await box.spoon(['exec', n, '--', 'sh', '-c', 'echo kept > ~/s.txt'])).code, 0);
    const startedAt = (await inspect(`spoon-${n}`))?.State.StartedAt;
    // Every sshd process, the listener and spoon's master connection alike.
    assert.equal(await engineExec(`spoon-${n}`, ['pkill', 'sshd']), 0);
    assert.equal((await inspect(`spoon-${n}`))?.State.Status, 'running', 'sshd is not the main process: the container stays up');

    // doctor sees it and names the fix.
    const doc = await box.spoon(['doctor', '--json']);
    assert.equal(doc.code, 1, doc.stderr);
    const check = (JSON.parse(doc.stdout) as { name: string; ok: boolean; detail: string; fix?: string }[]).find((c) => c.name === `env ${n}`);
    assert.equal(check?.ok, false);
    assert.equal(check?.detail, 'running, but its sshd is not running');
    assert.match(check?.fix ?? '', new RegExp(`spoon up ${n} -N`));

    const healed = await box.spoon(['exec', n, '--', 'cat', 's.txt']);
    assert.equal(healed.code, 0, healed.stderr);
    assert.equal(healed.stdout, 'kept\n');
    assert.match(healed.stderr, new RegExp(`${n}: sshd is not running in spoon-${n}; starting its sshd`));
    assert.match(healed.stderr, /healed by starting its sshd/);
    assert.equal((await inspect(`spoon-${n}`))?.State.StartedAt, startedAt, 'the container was not restarted');
    // The started sshd logs to the container log, like the first one.
    const again = await box.spoon(['exec', n, '--', 'true']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /heal/);
  });

  test('stopped, killed or removed behind spoon\'s back: the next command brings it back, data kept', async () => {
    const n = box.name('heal2');
    await box.up(n);
    assert.equal((await box.spoon(['exec', n, '--', 'sh', '-c', 'echo still-here > ~/data.txt'])).code, 0);
    const { api } = await import('./harness.js');
    // stopped through the engine, not through spoon (its cached connection is left stale)
    await api('POST', `/containers/spoon-${n}/stop?t=1`);
    assert.equal((await box.spoon(['exec', n, '--', 'cat', 'data.txt'])).stdout, 'still-here\n');
    // SIGKILL from the engine
    await api('POST', `/containers/spoon-${n}/kill?signal=KILL`);
    assert.equal((await box.spoon(['exec', n, '--', 'cat', 'data.txt'])).stdout, 'still-here\n');
    // removed behind spoon's back (volumes remain)
    await api('DELETE', `/containers/spoon-${n}?force=1`);
    const back = await box.spoon(['exec', '--label', box.label, n, '--', 'cat', 'data.txt']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'still-here\n');
  });
});
