import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline } from '../../src/core/timeline.js';

// A clock the test moves by hand: exact figures, no dependence on the machine's speed.
let now = 0;
const advance = (ms: number) => {
  now += ms;
};

describe('Timeline', () => {
  beforeEach(() => {
    now = 1000;
    mock.method(performance, 'now', () => now);
  });
  afterEach(() => mock.restoreAll());

  test('lists marked phases in order with their durations and the total', () => {
    const t = new Timeline();
    advance(30);
    t.mark('image');
    advance(15.4);
    t.mark('create');
    advance(20);
    t.mark('ssh-ready');
    assert.equal(t.summary(), 'image 30 ms, create 15 ms, ssh-ready 20 ms; total 65 ms');
  });

  test('a repeated mark adds to the same phase, keeping its first position', () => {
    const t = new Timeline();
    advance(10);
    t.mark('a');
    advance(7);
    t.mark('b');
    advance(12);
    t.mark('a');
    assert.equal(t.summary(), 'a 22 ms, b 7 ms; total 29 ms');
  });

  test('time after the last mark is shown as other', () => {
    const t = new Timeline();
    t.mark('a');
    advance(9);
    assert.equal(t.summary(), 'a 0 ms, other 9 ms; total 9 ms');
  });

  test('other under 1 ms is left out', () => {
    const t = new Timeline();
    advance(0.4);
    assert.equal(t.summary(), '; total 0 ms');
  });
});
