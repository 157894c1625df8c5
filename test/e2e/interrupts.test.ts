/**
 * Ctrl-C (SIGINT) at each phase of create, destroy and snapshot. SPOON_TEST_PAUSE_AT holds
 * spoon at a named checkpoint so the signal lands exactly there. After each, the next
 * command works and nothing is left half-made: no orphan container or volume, no
 * temporary state file, no held lock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, containersLabelled, useSandbox, volumeExists } from './harness.js';

const box = useSandbox();
// A second persist path, so destroy --volumes has more than one volume to remove.
const PERSIST = ['--persist', '~', '--persist', '/opt/cache'];
const volumesOf = (name: string) => [`spoon-${name}-home`, `spoon-${name}-opt-cache`];

/** Runs spoon paused at `phase`, sends SIGINT once it says it is there, and returns how it ended. */
function interruptAt(phase: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SPOON, ...args], { env: box.env({ SPOON_TEST_PAUSE_AT: phase }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`spoon ${args.join(' ')} never reached ${phase}: ${stderr}`));
    }, 120_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes(`paused at ${phase}`)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!sent) reject(new Error(`spoon ${args.join(' ')} ended (${code}) before reaching ${phase}: ${stderr}`));
      else resolve({ code, signal, stderr });
    });
  });
}

/** No temporary file (atomic writes, lock publishing) is left in spoon's state dir. */
function assertNoTemporaryFiles(): void {
  const root = join(box.stateHome, 'spoon');
  assert.ok(existsSync(root), 'spoon wrote its state dir');
  const leftovers = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.tmp$|\.lock\.\d+\.[0-9a-f]+$|\.lock\.stale\./.test(f));
  assert.deepEqual(leftovers, [], 'no temporary state files');
}

async function assertNothingOf(name: string): Promise<void> {
  assert.deepEqual(await containersLabelled(`dev.spoon.name=${name}`), [], `no container of ${name}`);
  for (const v of volumesOf(name)) assert.equal(await volumeExists(v), false, `no volume ${v}`);
  for (const f of ['state.json', 'known_hosts']) assert.equal(existsSync(join(box.stateHome, 'spoon', 'envs', name, f)), false, `no ${f} of ${name}`);
}

const up = (name: string) => ['up', name, '-N', '--label', box.label, ...PERSIST];

describe('Ctrl-C during create', () => {
  for (const phase of ['create:created', 'create:provisioned']) {
    test(`at ${phase}: the half-made container and the volumes it made are removed; the next up works`, async () => {
      const name = box.name(phase.replace(':', '-'));
      const r = await interruptAt(phase, up(name));
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /interrupted: removing what was made so far/);
      await assertNothingOf(name);
      assertNoTemporaryFiles();

      const again = await box.spoon(up(name));
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /waiting for another spoon|half-made/);
      assert.equal((await box.spoon(['exec', name, '--', 'echo', 'ok'])).stdout, 'ok\n');
    });
  }

  test('at create:started (made, provisioned and running): the env is whole, the next command uses it', async () => {
    const name = box.name('create-started');
    const r = await interruptAt('create:started', up(name));
    assert.equal(r.signal ?? r.code, r.signal ? 'SIGINT' : 130, r.stderr);
    const [c] = await containersLabelled(`dev.spoon.name=${name}`);
    assert.equal(c?.State, 'running', 'made, provisioned and started before the interrupt');
    assertNoTemporaryFiles();
    const ex = await box.spoon(['exec', name, '--', 'echo', 'ok']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.doesNotMatch(ex.stderr, /half-made|heal|waiting for another spoon/, 'used as it is');
    assert.equal(ex.stdout, 'ok\n');
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`))[0]?.Id, c.Id, 'the same container');
  });

  test('volumes kept from an earlier env of the name are not removed by an interrupted create', async () => {
    const name = box.name('create-kept');
    await box.up(name, PERSIST);
    assert.equal((await box.spoon(['exec', name, '--', 'sh', '-c', 'echo mine > ~/keep.txt'])).code, 0);
    assert.equal((await box.spoon(['destroy', name, '--force'])).code, 0);
    const r = await interruptAt('create:created', up(name));
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(await containersLabelled(`dev.spoon.name=${name}`), []);
    for (const v of volumesOf(name)) assert.equal(await volumeExists(v), true, `${v} is kept`);
    await box.up(name, PERSIST);
    assert.equal((await box.spoon(['exec', name, '--', 'cat', 'keep.txt'])).stdout, 'mine\n');
  });
});

describe('Ctrl-C during destroy --volumes', () => {
  const cases: { phase: string; after: string; check: (name: string) => Promise<void> }[] = [
    {
      phase: 'destroy:begin',
      after: 'nothing was removed; the env works',
      check: async (name) => {
        assert.equal((await box.spoon(['exec', name, '--', 'cat', 'data.txt'])).stdout, 'kept\n');
      },
    },
    {
      phase: 'destroy:forgotten',
      after: 'only the local cache went; the env works and its host key is pinned again from the engine',
      check: async (name) => {
        const ex = await box.spoon(['exec', name, '--', 'cat', 'data.txt']);
        assert.equal(ex.stdout, 'kept\n', ex.stderr);
        assert.ok(existsSync(join(box.stateHome, 'spoon', 'envs', name, 'known_hosts')));
      },
    },
    {
      phase: 'destroy:container-removed',
      after: 'the volumes are still there; up again reattaches them',
      check: async (name) => {
        for (const v of volumesOf(name)) assert.equal(await volumeExists(v), true, `${v} is still there`);
        await box.up(name, PERSIST);
        assert.equal((await box.spoon(['exec', name, '--', 'cat', 'data.txt'])).stdout, 'kept\n');
      },
    },
    {
      phase: 'destroy:volume-removed',
      after: 'one volume went; destroy --volumes again removes the rest',
      check: async (name) => {
        assert.equal((await Promise.all(volumesOf(name).map(volumeExists))).filter(Boolean).length, 1, 'one of the two volumes is left');
      },
    },
  ];

  for (const c of cases) {
    test(`at ${c.phase}: ${c.after}; then destroy finishes the job`, async () => {
      const name = box.name(c.phase.replace(':', '-'));
      await box.up(name, PERSIST);
      assert.equal((await box.spoon(['exec', name, '--', 'sh', '-c', 'echo kept > ~/data.txt'])).code, 0);

      const r = await interruptAt(c.phase, ['destroy', name, '--force', '--volumes']);
      assert.equal(r.signal ?? r.code, r.signal ? 'SIGINT' : 130, r.stderr);
      assertNoTemporaryFiles();
      await c.check(name);

      const done = await box.spoon(['destroy', name, '--force', '--volumes']);
      assert.equal(done.code, 0, done.stderr);
      assert.doesNotMatch(done.stderr, /waiting for another spoon/, 'the interrupted lock was taken over at once');
      await assertNothingOf(name);
      assert.deepEqual((await api('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ label: [box.label] }))}`)).body, [], 'no networks');
    });
  }
});

describe('Ctrl-C during snapshot', () => {
  const imageOf = async (name: string, tag: string) => (await api('GET', `/images/spoon-snapshot/${name}:${tag}/json`)).status === 200;
  const snapshotVolumes = async (name: string) => {
    const all = (await api<{ Volumes: { Name: string }[] | null }>('GET', '/volumes')).body?.Volumes ?? [];
    return all.map((v) => v.Name).filter((v) => v.startsWith(`spoon-snap-${name}-`));
  };

  for (const phase of ['snapshot:paused', 'snapshot:copied']) {
    test(`at ${phase}: the env runs again and no half-made snapshot is left`, async () => {
      const name = box.name(phase.replace(':', '-'));
      await box.up(name);
      const r = await interruptAt(phase, ['snapshot', name, 't1']);
      assert.equal(r.code, 130, r.stderr);
      assert.equal((await containersLabelled(`dev.spoon.name=${name}`))[0]?.State, 'running', 'not left paused');
      assert.equal(await imageOf(name, 't1'), false, 'no snapshot image');
      assert.deepEqual(await snapshotVolumes(name), [], 'no snapshot volumes');
      assert.equal(existsSync(join(box.stateHome, 'spoon', 'envs', name, 'paused')), false, 'no paused marker');
      assertNoTemporaryFiles();
      const again = await box.spoon(['snapshot', name, 't1']);
      assert.equal(again.code, 0, again.stderr);
      await box.spoon(['snapshot', 'rm', `${name}:t1`]);
    });
  }

  test('kill -9 while the env is paused: the next command resumes it', async () => {
    const name = box.name('snapshot-kill');
    await box.up(name);
    const child = spawn(process.execPath, [SPOON, 'snapshot', name, 't1'], { env: box.env({ SPOON_TEST_PAUSE_AT: 'snapshot:paused' }), stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('paused at') && resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`))[0]?.State, 'paused');

    const r = await box.spoon(['exec', name, '--', 'echo', 'back']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'back\n');
    assert.match(r.stderr, /was paused; resuming it/);
    assert.equal(existsSync(join(box.stateHome, 'spoon', 'envs', name, 'paused')), false, 'the marker went with the pause');
    const fast = await box.spoon(['exec', name, '--', 'true']);
    assert.equal(fast.code, 0, fast.stderr);
    assert.doesNotMatch(fast.stderr, /paused/);
  });
});
