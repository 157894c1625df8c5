import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Timeline } from '../../src/core/timeline.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** `a 12 ms, b 3 ms; total 15 ms` → phases and total. */
function parse(summary: string): { phases: [string, number][]; total: number } {
  const m = /^(.*); total (\d+) ms$/.exec(summary);
  assert.ok(m, `unexpected summary ${JSON.stringify(summary)}`);
  const phases = (m[1] ?? '')
    .split(', ')
    .filter((p) => p !== '')
    .map((p): [string, number] => {
      const pm = /^(\S+) (\d+) ms$/.exec(p);
      assert.ok(pm, `unexpected phase ${JSON.stringify(p)}`);
      return [pm[1] ?? '', Number(pm[2])];
    });
  return { phases, total: Number(m[2]) };
}

describe('Timeline', () => {
  test('lists marked phases in order with plausible durations', async () => {
    const t = new Timeline();
    await sleep(30);
    t.mark('image');
    busyWait(15);
    t.mark('create');
    await sleep(20);
    t.mark('ssh-ready');
    const { phases, total } = parse(t.summary());
    assert.deepEqual(
      phases.map(([n]) => n).filter((n) => n !== 'other'),
      ['image', 'create', 'ssh-ready'],
    );
    const ms = Object.fromEntries(phases);
    assert.ok((ms.image ?? 0) >= 28, `image ${ms.image}`);
    assert.ok((ms.create ?? 0) >= 14, `create ${ms.create}`);
    assert.ok((ms['ssh-ready'] ?? 0) >= 18, `ssh-ready ${ms['ssh-ready']}`);
    const sum = phases.reduce((s, [, v]) => s + v, 0);
    // Each shown number is rounded on its own, so allow half a ms per phase.
    assert.ok(total >= sum - phases.length / 2, `total ${total} < sum ${sum}`);
    assert.ok(total >= 60, `total ${total}`);
  });

  test('a repeated mark adds to the same phase, keeping its first position', async () => {
    const t = new Timeline();
    busyWait(10);
    t.mark('a');
    busyWait(10);
    t.mark('b');
    busyWait(10);
    t.mark('a');
    const { phases } = parse(t.summary());
    const names = phases.map(([n]) => n).filter((n) => n !== 'other');
    assert.deepEqual(names, ['a', 'b']);
    const a = phases.find(([n]) => n === 'a')?.[1] ?? 0;
    assert.ok(a >= 19, `a ${a}`);
  });

  test('time after the last mark is shown as other', () => {
    const t = new Timeline();
    t.mark('a');
    busyWait(10);
    const { phases } = parse(t.summary());
    assert.equal(phases.at(-1)?.[0], 'other');
    assert.ok((phases.at(-1)?.[1] ?? 0) >= 9);
  });

  test('no marks: a tiny other is left out', () => {
    const t = new Timeline();
    // (other is shown only from 1 ms on, so a slow machine may show it)
    assert.match(t.summary(), /^; total 0 ms$|^other \d+ ms; total \d+ ms$/);
  });
});
