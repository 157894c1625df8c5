import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, processStartTime, startTimeFromStat } from '../../src/state/lock.js';
import { RuntimeError } from '../../src/errors.js';

let dir = '';
let n = 0;
const lockPath = () => join(dir, 'locks', `env-${n++}.lock`);
const lockModule = fileURLToPath(new URL('../../src/state/lock.js', import.meta.url));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoon-lock-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function deadPid(): number {
  const res = spawnSync('true');
  assert.equal(res.status, 0);
  // The child has exited and been reaped: signal 0 must fail with ESRCH.
  assert.throws(() => process.kill(res.pid, 0), { code: 'ESRCH' });
  return res.pid;
}

function holder(path: string): string {
  return readFileSync(path, 'utf8').split(' ')[0] ?? '';
}

function plant(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function assertTimeout(err: unknown, what: string): true {
  assert.ok(err instanceof RuntimeError, `expected RuntimeError, got ${String(err)}`);
  assert.equal(err.exitCode, 1);
  assert.match(err.message, /timed out after 200 ms/);
  assert.ok(err.message.includes(what), err.message);
  return true;
}

describe('acquireLock', () => {
  test('creates the lock file (and its folders) holding our pid; release removes it and leaves no temp files', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, 'env a', 1000);
    assert.equal(holder(path), String(process.pid));
    lock.release();
    assert.equal(existsSync(path), false);
    lock.release(); // a second release is harmless
    assert.deepEqual(readdirSync(dirname(path)).filter((f) => f.startsWith(`env-`)), []);
  });

  test('a second acquire waits until the first is released', async () => {
    const path = lockPath();
    const first = await acquireLock(path, 'env b', 2000);
    let waits = 0;
    let releasedAt = 0;
    const releaser = sleep(100).then(() => {
      releasedAt = Date.now();
      first.release();
    });
    const second = await acquireLock(path, 'env b', 2000, () => waits++);
    const acquiredAt = Date.now();
    await releaser;
    assert.ok(releasedAt > 0 && acquiredAt >= releasedAt, 'granted only after the release');
    assert.equal(waits, 1, 'onWait is called once');
    second.release();
    assert.equal(existsSync(path), false);
  });

  test('a lock held by a dead pid is taken over at once', async () => {
    const path = lockPath();
    plant(path, `${deadPid()} deadbeef`);
    let waits = 0;
    const lock = await acquireLock(path, 'env c', 5000, () => waits++);
    assert.equal(waits, 0);
    assert.equal(holder(path), String(process.pid));
    lock.release();
  });

  test('records the holder\'s start time (field 22 of /proc/PID/stat) between its pid and its token', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, 'env s', 1000);
    const [pid, start, token] = readFileSync(path, 'utf8').split(' ');
    assert.equal(pid, String(process.pid));
    assert.equal(start, readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[19]);
    assert.match(token ?? '', /^[0-9a-f]{16}$/);
    lock.release();
  });

  test('a lock whose pid is alive but was reused by a later process (another start time) is taken over at once', async () => {
    const path = lockPath();
    const other = spawn('sleep', ['30']);
    try {
      const pid = other.pid ?? 0;
      const start = processStartTime(pid);
      assert.ok(start, 'the start time of a live process is readable');
      plant(path, `${pid} ${Number(start) - 1} deadbeef`);
      let waits = 0;
      const lock = await acquireLock(path, 'env r', 5000, () => waits++);
      assert.equal(waits, 0);
      assert.equal(holder(path), String(process.pid));
      lock.release();
    } finally {
      other.kill();
    }
  });

  test('a lock whose pid is alive with the start time it recorded is held', async () => {
    const path = lockPath();
    const other = spawn('sleep', ['30']);
    try {
      const pid = other.pid ?? 0;
      const content = `${pid} ${processStartTime(pid)} deadbeef`;
      plant(path, content);
      await assert.rejects(acquireLock(path, 'env h', 200), (err) => assertTimeout(err, 'env h'));
      assert.equal(readFileSync(path, 'utf8'), content);
    } finally {
      other.kill();
    }
  });

  test('a lock file with garbage in it is taken over', async () => {
    const path = lockPath();
    plant(path, 'not a pid');
    const lock = await acquireLock(path, 'env d', 2000);
    assert.equal(holder(path), String(process.pid));
    lock.release();
  });

  test('times out with a RuntimeError when the holder is alive, leaving its lock alone', async () => {
    const path = lockPath();
    plant(path, `${process.pid} someone-else`);
    let waits = 0;
    await assert.rejects(acquireLock(path, 'env e', 200, () => waits++), (err) => assertTimeout(err, 'env e'));
    assert.equal(waits, 1);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid} someone-else`);
  });

  test('release does not remove a lock that is no longer ours', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, 'env f', 1000);
    writeFileSync(path, `${process.pid} another-owner`);
    lock.release();
    assert.equal(readFileSync(path, 'utf8'), `${process.pid} another-owner`);
  });

  test('processes racing for one lock hold it one at a time', async () => {
    const path = lockPath();
    const journal = join(dir, `journal-${n}`);
    writeFileSync(journal, '');
    const script = `
      import { acquireLock } from ${JSON.stringify(lockModule)};
      import { appendFileSync } from 'node:fs';
      const lock = await acquireLock(${JSON.stringify(path)}, 'race', 20000);
      appendFileSync(${JSON.stringify(journal)}, 'in ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 30));
      appendFileSync(${JSON.stringify(journal)}, 'out ' + process.pid + '\\n');
      lock.release();
    `;
    const runs = Array.from({ length: 6 }, () =>
      new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('close', resolve)),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    assert.equal(lines.length, 12);
    for (let i = 0; i < lines.length; i += 2) {
      const [inWord, inPid] = (lines[i] ?? '').split(' ');
      assert.equal(inWord, 'in');
      assert.equal(lines[i + 1], `out ${inPid}`, `no one else got in while ${inPid} held the lock:\n${lines.join('\n')}`);
    }
    assert.equal(existsSync(path), false);
  });
});

describe('startTimeFromStat', () => {
  test('reads field 22, counting after the command name, which may hold spaces and parentheses', () => {
    const rest = 'S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 123456 1000 10 18446744073709551615';
    assert.equal(startTimeFromStat(`42 (node) ${rest}`), '123456');
    assert.equal(startTimeFromStat(`42 (a) (b c) ${rest}`), '123456');
  });
  test('undefined when the line is not a stat line', () => {
    assert.equal(startTimeFromStat(''), undefined);
    assert.equal(startTimeFromStat('42 (short) S 1'), undefined);
  });
});
