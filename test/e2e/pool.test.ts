/**
 * The warm pool (`pool = N`) on the real engine: members are made ahead of time, a new
 * env claims one (and is then like one made the slow way), the pool refills in the
 * background, and what must never be claimed is not: a NAME whose volumes exist, another
 * configuration, a member that went bad or whose fill was interrupted.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, engineExec, host, inspect, sleep, useSandbox, volumeExists, waitFor } from './harness.js';

const box = useSandbox();
const SIZE = 2;

interface Member {
  name: string;
  configHash: string;
  state: string;
  claimable: boolean;
  ageSeconds: number;
}

async function pool(env: Record<string, string> = {}): Promise<{ size: number; configHash: string; members: Member[] }> {
  const r = await box.spoon(['pool', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { size: number; configHash: string; members: Member[] };
}

/** The claimable members of this configuration, once there are `count` of them (a refill may be at work). */
async function claimable(count = SIZE, env: Record<string, string> = {}): Promise<string[]> {
  return waitFor(
    `${count} claimable pool members`,
    async () => {
      const p = await pool(env);
      const ready = p.members.filter((m) => m.claimable && m.configHash === p.configHash).map((m) => m.name);
      return ready.length === count ? ready.sort() : undefined;
    },
    120_000,
  );
}

async function listed(): Promise<string[]> {
  const r = await box.spoon(['list', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** The pool member a claimed env was (its container's pool label); undefined for an env made the slow way. */
async function memberOf(name: string): Promise<string | undefined> {
  return (await inspect(`spoon-${name}`))?.Config.Labels['dev.spoon.pool'];
}

async function homeVolume(name: string): Promise<string | undefined> {
  return (await inspect(`spoon-${name}`))?.HostConfig.Mounts?.find((m) => m.Target === '/home/dev')?.Source;
}

/** Waits until no fill holds the pool (a background refill), so a check sees a pool at rest. */
async function settled(): Promise<void> {
  await waitFor('the pool to settle', () => !existsSync(join(box.stateHome, 'spoon', 'locks', '_pool.lock')), 120_000);
}

before(() => {
  // Members are claimed and drained only by who made them: a key of this run's own makes this run someone of its own.
  mkdirSync(join(box.home, '.ssh'), { recursive: true });
  host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `pool-${box.runId}@test`, '-f', join(box.home, '.ssh', 'id_ed25519')]);
  // The user file sets the pool for the default configuration; the run's label reaches members, their volumes and claimed envs.
  mkdirSync(join(box.home, '.config', 'spoon'), { recursive: true });
  writeFileSync(
    join(box.home, '.config', 'spoon', 'config.toml'),
    `pool = ${SIZE}\nrun_on_create = ["echo ran >> ~/.created"]\n[labels]\n"test.spoon.run" = "${box.runId}"\n`,
  );
});

describe('warm pool', () => {
  test('fill makes the members; pool --json lists them; list and ssh-config never show them', async () => {
    const r = await box.spoon(['pool', 'fill']);
    assert.equal(r.code, 0, r.stderr);
    const p = await pool();
    assert.equal(p.size, SIZE);
    const mine = p.members.filter((m) => m.configHash === p.configHash);
    assert.equal(mine.length, SIZE, JSON.stringify(p));
    for (const m of mine) {
      assert.equal(m.claimable, true);
      assert.equal(m.state, 'running');
      assert.match(m.name, /^spoon-_pool-/);
      assert.ok(m.ageSeconds >= 0);
    }
    // Other envs may share the engine: none of the listed is a member.
    const id = mine[0]!.name.replace(/^spoon-/, '');
    assert.deepEqual((await listed()).filter((n) => n.includes('_pool')), []);
    const json = await box.spoon(['list', '--json']);
    assert.deepEqual((JSON.parse(json.stdout) as { name: string }[]).filter((e) => e.name.includes('_pool')), []);
    const completion = await box.spoon(['ssh-config']);
    assert.doesNotMatch(completion.stdout, /_pool/);
    // A member is never found under a NAME: not even its own id.
    const ports = await box.spoon(['ports', id]);
    assert.notEqual(ports.code, 0);
  });

  test('a new env claims a member: its name, labels, volume and own host key; run_on_create once; nothing of the pool in its home', async () => {
    const before = await claimable();
    const name = box.name('new');
    const r = await box.spoon(['exec', name, '--', 'sh', '-c', 'cat ~/.created; ls -A ~; cat /etc/spoon/ssh_host_ed25519_key.pub']);
    assert.equal(r.code, 0, r.stderr);
    const [created, ...rest] = r.stdout.trim().split('\n');
    assert.equal(created, 'ran');
    const hostKey = rest.pop()!.split(' ').slice(0, 2).join(' ');
    assert.deepEqual(rest.sort(), ['.bash_logout', '.bashrc', '.created', '.profile'], 'the home holds the skeleton and what run_on_create wrote, nothing of the pool');

    const member = await memberOf(name);
    assert.ok(member && before.includes(member), `it is a member that was claimable: ${member}`);
    assert.equal(await inspect(member), undefined, 'the member is gone under its own name');
    const c = (await inspect(`spoon-${name}`))!;
    assert.equal(c.Name, `/spoon-${name}`);
    assert.equal(c.Config.Labels['test.spoon.run'], box.runId);
    assert.ok(await listed().then((l) => l.includes(name)));
    const home = await homeVolume(name);
    assert.equal(home, `${member}-home`);

    // Its own key, pinned under its own alias, and not another member's.
    const pin = readFileSync(join(box.stateHome, 'spoon', 'envs', name, 'known_hosts'), 'utf8');
    assert.equal(pin, `spoon-${name} ${hostKey}\n`);
    const other = before.find((m) => m !== member)!;
    const otherKey = host('docker', ['exec', other, 'cat', '/etc/spoon/ssh_host_ed25519_key.pub']).stdout.split(' ').slice(0, 2).join(' ');
    assert.match(otherKey, /^ssh-ed25519 /);
    assert.notEqual(otherKey, hostKey);

    // Once more: run_on_create ran once, and the env answers like any other.
    const again = await box.spoon(['exec', name, '--', 'cat', '.created']);
    assert.equal(again.stdout, 'ran\n');
    const ports = await box.spoon(['ports', name, '--json']);
    assert.equal(ports.code, 0, ports.stderr);

    // Commands that find the env by its name find a claimed one too (its name label is the
    // member's): a recording of its session attaches a viewer to it.
    const session = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'new-session', '-d', '-s', 'pair']);
    assert.equal(session.code, 0, session.stderr);
    const cast = join(box.dir, 'claimed.cast');
    const rec = spawn(process.execPath, [SPOON, 'record', name, '--out', cast], { env: box.env(), cwd: box.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let recErr = '';
    rec.stderr.on('data', (d: Buffer) => (recErr += d.toString()));
    const recExit = new Promise<number | null>((resolve) => rec.on('close', (code) => resolve(code)));
    await waitFor('spoon record of the claimed env to start', () => (/Ctrl-C to stop/.test(recErr) ? true : rec.exitCode !== null ? assert.fail(`spoon record failed: ${recErr}`) : undefined), 60_000);
    process.kill(-rec.pid!, 'SIGINT');
    assert.equal(await recExit, 0, recErr);
    assert.equal((JSON.parse(readFileSync(cast, 'utf8').split('\n')[0]!) as { version: number }).version, 2);
  });

  test('the pool refills in the background, and its log is in the state dir', async () => {
    await settled();
    const members = await claimable();
    assert.equal(members.length, SIZE);
    const log = readFileSync(join(box.stateHome, 'spoon', 'pool', 'refill.log'), 'utf8');
    assert.match(log, /refill: made 1/);
  });

  test('destroy keeps the claimed home and the next spoon NAME reattaches it; destroy --volumes removes it', async () => {
    const name = box.name('new');
    const home = await homeVolume(name);
    assert.ok(home);
    assert.equal((await box.spoon(['exec', name, '--', 'sh', '-c', 'echo mine > ~/data'])).code, 0);
    const members = await claimable();
    const d = await box.spoon(['destroy', name, '-f']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, new RegExp(`kept volumes: ${home}`));
    assert.ok(await volumeExists(home));

    const back = await box.spoon(['exec', name, '--', 'cat', 'data']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'mine\n');
    assert.equal(await homeVolume(name), home);
    assert.equal(await memberOf(name), undefined, 'made again the slow way, not claimed');
    await settled();
    assert.deepEqual(await claimable(), members, 'no member was taken');

    const gone = await box.spoon(['destroy', name, '-f', '--volumes']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(await volumeExists(home), false);
    assert.equal(await volumeExists(`spoon-${name}-_pool-ref`), false);
    assert.equal((await box.spoon(['ports', name])).code, 1);
  });

  test('a NAME whose home volume exists is not claimed: it reattaches it', async () => {
    const name = box.name('hashome');
    const vol = `spoon-${name}-home`;
    const made = await api('POST', '/volumes/create', { Name: vol, Labels: { 'dev.spoon.name': name, 'dev.spoon.persist': '~', 'test.spoon.run': box.runId } });
    assert.equal(made.status, 201);
    const members = await claimable();
    const r = await box.spoon(['up', name, '-N']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await memberOf(name), undefined);
    assert.equal(await homeVolume(name), vol);
    await settled();
    assert.deepEqual(await claimable(), members);
  });

  test('another configuration is not claimed', async () => {
    const name = box.name('other');
    const members = await claimable();
    const r = await box.spoon(['up', name, '-N', '--memory', '300m']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await memberOf(name), undefined);
    // The default configuration's members are untouched, and no pool is started for a flag's one-off configuration.
    await settled();
    assert.deepEqual(await claimable(), members);
    assert.equal((await pool()).members.length, SIZE);
  });

  test('two spoon up at once claim two different members', async () => {
    // Twice: the race it guards against (two renames of one member both succeeding) does not show every time.
    for (const round of ['x', '']) {
      await settled();
      await claimTwoAtOnce(round);
    }
  });

  async function claimTwoAtOnce(round: string): Promise<void> {
    const members = await claimable();
    const [a, b] = [box.name(`twin-a${round}`), box.name(`twin-b${round}`)];
    const [ra, rb] = await Promise.all([box.spoon(['up', a, '-N']), box.spoon(['up', b, '-N'])]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const [ma, mb] = [await memberOf(a), await memberOf(b)];
    assert.ok(ma && mb, `both claimed: ${ma} ${mb}`);
    assert.notEqual(ma, mb);
    assert.deepEqual([ma, mb].sort(), members);
    assert.notEqual(await homeVolume(a), await homeVolume(b));
    // Each answers with its own key under its own name.
    for (const n of [a, b]) assert.equal((await box.spoon(['exec', n, '--', 'true'])).code, 0);
  }

  test('members that went bad (stopped; sshd not answering) are not claimed, and the refill discards them', async () => {
    const [stopped, silent] = await claimable();
    assert.equal((await api('POST', `/containers/${stopped}/stop?t=1`)).status, 204);
    await engineExec(silent!, ['pkill', '-f', '/usr/sbin/sshd -D']);
    const name = box.name('afterbad');
    const r = await box.spoon(['up', name, '-N']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await memberOf(name), undefined, 'made the slow way');
    await settled();
    const now = await claimable();
    assert.ok(!now.includes(stopped!) && !now.includes(silent!), `both discarded: ${now.join(' ')}`);
    assert.equal(await inspect(stopped!), undefined);
    assert.equal(await inspect(silent!), undefined);
    assert.equal(await volumeExists(`${stopped}-home`), false);
  });

  test('a fill killed half way leaves nothing claimable, and the next fill cleans it up', async () => {
    assert.equal((await box.spoon(['pool', 'drain'])).code, 0);
    const child = spawn(process.execPath, [SPOON, 'pool', 'fill'], { env: box.env({ SPOON_TEST_PAUSE_AT: 'pool:answered' }), cwd: box.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('paused at') && resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const p = await pool();
    const [half] = p.members;
    assert.ok(half, 'the half-made member is there');
    assert.equal(half.state, 'running');
    assert.equal(half.claimable, false);

    const name = box.name('afterkill');
    const r = await box.spoon(['up', name, '-N']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await memberOf(name), undefined, 'the half-made member was not claimed');
    const f = await box.spoon(['pool', 'fill']);
    assert.equal(f.code, 0, f.stderr);
    await settled();
    assert.equal(await inspect(half.name), undefined, 'removed by the fill');
    assert.equal(await volumeExists(`${half.name}-home`), false);
    assert.equal((await claimable()).length, SIZE);
  });

  test('a member does not stop itself while it waits; claimed, it stops itself after idle_stop', async () => {
    const env = { SPOON_IDLE_STOP: '4s' };
    const f = await box.spoon(['pool', 'fill'], { env });
    assert.equal(f.code, 0, f.stderr);
    const [member] = await claimable(SIZE, env);
    await sleep(12_000);
    assert.equal((await inspect(member!))?.State.Status, 'running', 'members wait without their idle watcher');
    const name = box.name('idle');
    const r = await box.spoon(['up', name, '-N'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await memberOf(name));
    await waitFor(`${name} to stop itself`, async () => ((await inspect(`spoon-${name}`))?.State.Status === 'exited' ? true : undefined), 60_000);
    await settled();
  });

  test('a claimed env: snapshots copy its home, someone else joins it, and a container removed behind spoon is made again on its home', async () => {
    await settled();
    await claimable();
    const name = box.name('snap');
    assert.equal((await box.spoon(['exec', name, '--', 'sh', '-c', 'echo snapped > ~/data'])).code, 0);
    const home = await homeVolume(name);
    assert.ok((await memberOf(name)) && home);

    const snap = await box.spoon(['snapshot', name, 't1', '--json']);
    assert.equal(snap.code, 0, snap.stderr);
    assert.equal((JSON.parse(snap.stdout) as { volumes: unknown[] }).volumes.length, 1, snap.stdout);
    const copy = box.name('fromsnap');
    const restored = await box.spoon(['up', copy, '-N', '--from', `${name}:t1`]);
    assert.equal(restored.code, 0, restored.stderr);
    const read = await box.spoon(['exec', copy, '--', 'cat', 'data']);
    assert.equal(read.stdout, 'snapped\n', read.stderr);
    assert.ok(!(await memberOf(copy)), 'an env from a snapshot is never claimed, nor named as the claimed one was');
    assert.ok((await listed()).includes(copy));
    assert.equal((await box.spoon(['destroy', copy, '-f', '--volumes'])).code, 0);
    assert.equal((await box.spoon(['snapshot', 'rm', `${name}:t1`])).code, 0);

    // Another person (own HOME and state) reaches it by its NAME: joined through the engine.
    const other = { HOME: join(box.dir, 'other-home'), XDG_STATE_HOME: join(box.dir, 'other-state') };
    mkdirSync(other.HOME, { recursive: true });
    const joined = await box.spoon(['exec', name, '--', 'cat', 'data'], { env: other });
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(joined.stdout, 'snapped\n');

    assert.equal((await api('DELETE', `/containers/spoon-${name}?force=1`)).status, 204);
    const back = await box.spoon(['exec', name, '--', 'cat', 'data']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'snapped\n');
    assert.equal(await homeVolume(name), home);
    await settled();
  });

  test('drain removes the members and their volumes; claimed envs stay', async () => {
    await settled();
    const members = (await pool()).members.map((m) => m.name);
    assert.ok(members.length > 0);
    const r = await box.spoon(['pool', 'drain']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await pool()).members, []);
    for (const m of members) {
      assert.equal(await inspect(m), undefined);
      assert.equal(await volumeExists(`${m}-home`), false);
    }
    const twin = box.name('twin-a');
    assert.ok(await inspect(`spoon-${twin}`));
    assert.ok(await volumeExists((await homeVolume(twin))!));
  });
});
