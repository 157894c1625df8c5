import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLines } from '../../src/engine/docker/top.js';

describe('commandLines (container top)', () => {
  test("Docker's answer: one cell per column", () => {
    const top = {
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [
        ['root', '1', '0', '0', '21:47', '?', '00:00:00', '/bin/sh -c sleep 300 & wait'],
        ['root', '6', '1', '0', '21:47', '?', '00:00:00', 'sshd: dev@pts/0'],
      ],
    };
    assert.deepEqual(commandLines(top), ['/bin/sh -c sleep 300 & wait', 'sshd: dev@pts/0']);
  });

  test("Podman's answer: each title and row one unsplit line", () => {
    const top = {
      Titles: ['UID          PID    PPID  C STIME TTY          TIME CMD'],
      Processes: [['root           1       0  1 21:47 ?        00:00:00 /bin/sh -c sleep 300 & wait'], ['root           6       1  0 21:47 ?        00:00:00 sleep 300']],
    };
    assert.deepEqual(commandLines(top), ['/bin/sh -c sleep 300 & wait', 'sleep 300']);
  });

  test('no command column, or no answer: unknown, not "no processes"', () => {
    assert.equal(commandLines({ Titles: ['UID', 'PID'], Processes: [['root', '1']] }), undefined);
    assert.equal(commandLines(undefined), undefined);
    assert.deepEqual(commandLines({ Titles: ['PID', 'COMMAND'], Processes: [] }), []);
  });
});
