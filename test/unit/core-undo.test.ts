/**
 * undoOnFailure's signal handling, through the Context's process hooks (core never
 * touches `process`, so a test delivers the signals).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { undoOnFailure } from '../../src/core/undo.js';
import { fakeSetup, type FakeSetup } from '../support/fake-context.js';

let s: FakeSetup;
beforeEach(() => (s = fakeSetup()));
afterEach(() => s.dispose());

/** Work that runs until `finish` is called. */
function pending(): { work: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: async () => (await done, 'made'), finish };
}

describe('undoOnFailure', () => {
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    test(`${signal} while the work runs: undone, then exit ${status}; the same signal again is not caught`, async () => {
      const { work, finish } = pending();
      const undone: string[] = [];
      const running = undoOnFailure(work, async () => void undone.push('undo'), s.ctx);
      await tick();
      assert.equal(s.proc.signal(signal), true);
      for (let i = 0; i < 10 && s.proc.exits.length === 0; i++) await tick();
      assert.deepEqual(undone, ['undo']);
      assert.deepEqual(s.proc.exits, [status]);
      // Nobody handles a second one: the process dies of it at once.
      assert.equal(s.proc.signal(signal), false);
      finish();
      assert.equal(await running, 'made');
    });
  }

  test('work that fails is undone once and its error passes on; no handler is left behind', async () => {
    const undone: string[] = [];
    await assert.rejects(
      undoOnFailure(async () => { throw new Error('boom'); }, async () => void undone.push('undo'), s.ctx),
      /boom/,
    );
    assert.deepEqual(undone, ['undo']);
    assert.deepEqual(s.proc.exits, []);
    assert.equal(s.proc.events.listenerCount('SIGINT') + s.proc.events.listenerCount('SIGTERM'), 0);
  });

  test('an undo that fails is reported, not thrown over the first error', async () => {
    await assert.rejects(
      undoOnFailure(async () => { throw new Error('boom'); }, async () => { throw new Error('engine gone'); }, s.ctx),
      /boom/,
    );
    assert.ok(s.said.some((x) => x.kind === 'warn' && x.message === 'could not clean up after the failure: engine gone'));
  });
});
