/**
 * spoon's state dir cannot be written: the disk is full (a small tmpfs filled up) or
 * permission is denied (root without CAP_DAC_OVERRIDE, via setpriv, on a dir it may
 * not write). Each gives a one-line error naming the file and the cause, exit 1, no
 * stack trace; nothing is created on the engine and no state file is damaged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPOON, containersLabelled, useSandbox, volumeExists } from './harness.js';

const box = useSandbox();
// Outside the sandbox's folder: it must be unmounted before that folder is removed.
const tmpfs = mkdtempSync(join(tmpdir(), 'spoon-small-disk-'));
const fullState = join(tmpfs, 'state');
const filler = join(tmpfs, 'filler');

before(() => {
  mkdirSync(tmpfs, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', tmpfs], { encoding: 'utf8' });
  assert.equal(m.status, 0, `these tests mount a small tmpfs and need root: ${m.stderr}`);
});

after(async () => {
  // The env's ssh master holds its log open on the tmpfs: close it first.
  await box.spoon(['destroy', box.name('full'), '--force'], { env: { XDG_STATE_HOME: fullState }, cwd: tmpdir() });
  spawnSync('umount', ['--lazy', tmpfs]);
  rmSync(tmpfs, { recursive: true, force: true });
});

/** Fills the tmpfs to the last byte. */
function fillDisk(): void {
  const chunk = Buffer.alloc(4096);
  writeFileSync(filler, '');
  for (;;) {
    try {
      writeFileSync(filler, chunk, { flag: 'a' });
    } catch {
      break;
    }
  }
  // The last partial block too.
  try {
    writeFileSync(filler, Buffer.alloc(1), { flag: 'a' });
  } catch {
    // full
  }
}

function stateFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    const p = join(root, f);
    try {
      out[f] = readFileSync(p, 'utf8');
    } catch {
      // a directory or a socket
    }
  }
  return out;
}

function assertCleanFailure(r: { code: number; stderr: string }, cause: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0] ?? '', new RegExp(`^spoon: cannot [a-z ]+ /\\S+: ${cause.source}$`));
  assert.match(lines[1] ?? '', /^hint: .*XDG_STATE_HOME/);
  assert.equal(lines.length, 2, `one error line and a hint: ${r.stderr}`);
}

async function assertNothingMade(name: string): Promise<void> {
  assert.deepEqual(await containersLabelled(`dev.spoon.name=${name}`), [], `no container of ${name}`);
  assert.equal(await volumeExists(`spoon-${name}-home`), false, `no volume of ${name}`);
}

describe("spoon's state dir cannot be written", () => {
  test('disk full: a new env is refused cleanly; an existing env keeps its state and works once there is space', async () => {
    const env = { XDG_STATE_HOME: fullState };
    const name = box.name('full');
    const made = await box.spoon(['up', name, '-N', '--label', box.label], { env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await box.spoon(['stop', name], { env })).code, 0);
    const before = stateFiles(join(fullState, 'spoon'));
    assert.ok(Object.keys(before).some((f) => f.endsWith('state.json')));

    fillDisk();
    const fresh = box.name('fullnew');
    const refused = await box.spoon(['up', fresh, '-N', '--label', box.label], { env });
    assertCleanFailure(refused, /the disk is full/);
    await assertNothingMade(fresh);

    // Starting the stopped env moves its ssh port, so its state must be rewritten: that fails cleanly.
    const blocked = await box.spoon(['exec', name, '--', 'true'], { env });
    assertCleanFailure(blocked, /the disk is full/);
    assert.deepEqual(stateFiles(join(fullState, 'spoon')), before, 'no state file changed, none half-written, no temporary file left');

    rmSync(filler);
    const works = await box.spoon(['exec', name, '--', 'echo', 'ok'], { env });
    assert.equal(works.code, 0, works.stderr);
    assert.equal(works.stdout, 'ok\n');
  });

  test('permission denied: a clear error, nothing made on the engine, the existing files untouched', async () => {
    const state = join(box.dir, 'locked-state');
    const env = { XDG_STATE_HOME: state };
    const name = box.name('perm');
    mkdirSync(join(state, 'spoon'), { recursive: true, mode: 0o700 });
    writeFileSync(join(state, 'spoon', 'marker'), 'untouched\n');
    chmodSync(join(state, 'spoon'), 0o500);
    try {
      // As root, permissions bind only without CAP_DAC_OVERRIDE (and its relatives).
      const r = spawnSync('setpriv', ['--bounding-set', '-dac_override,-dac_read_search,-fowner', process.execPath, SPOON, 'up', name, '-N', '--label', box.label], {
        env: box.env(env),
        encoding: 'utf8',
        timeout: 120_000,
      });
      assertCleanFailure({ code: r.status ?? -1, stderr: r.stderr }, /permission denied/);
      await assertNothingMade(name);
      assert.equal(readFileSync(join(state, 'spoon', 'marker'), 'utf8'), 'untouched\n');
      assert.equal(existsSync(join(state, 'spoon', 'locks')), false);
    } finally {
      chmodSync(join(state, 'spoon'), 0o700);
    }
  });
});
