/**
 * idle_stop: an env stops itself after a while without work, counted inside the env
 * (typing in tmux, open ssh sessions and forwards, CPU use), never by open connections
 * alone. Each kind of activity is checked on its own env made with a second-scale
 * setting (the watcher then checks every second); silence stops it with its data kept.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, freePort, host, inspect, sleep, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const IDLE = '6s';
/** Long enough past the idle time that an env the watcher would stop has been stopped. */
const BEYOND_IDLE_MS = 15_000;

const socket = `spoon-idle-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
after(() => {
  tmux('kill-server');
});

async function state(name: string): Promise<string | undefined> {
  return (await inspect(`spoon-${name}`))?.State.Status;
}

async function listed(name: string): Promise<{ state: string; idleStop: string | null; idleSeconds: number | null } | undefined> {
  const r = await box.spoon(['list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { name: string; state: string; idleStop: string | null; idleSeconds: number | null }[]).find((e) => e.name === name);
}

/** Checks, for BEYOND_IDLE_MS, that the env keeps running while `activity` goes on (called about every second). */
async function staysUp(name: string, activity: (round: number) => Promise<void> | void = () => undefined): Promise<void> {
  const end = Date.now() + BEYOND_IDLE_MS;
  for (let round = 0; Date.now() < end; round++) {
    await activity(round);
    assert.equal(await state(name), 'running', `${name} stopped although it was busy (round ${round})`);
    await sleep(1000);
  }
  const env = await listed(name);
  assert.ok(env && env.idleSeconds !== null && env.idleSeconds < 6, `its watcher counts it as busy: ${JSON.stringify(env)}`);
}

function stopped(name: string): Promise<true> {
  return waitFor(`${name} to stop itself`, async () => ((await state(name)) === 'exited' ? true : undefined), 60_000);
}

describe('idle_stop', () => {
  test('silence stops the env, its data stays, and the next exec starts it again', async () => {
    const name = box.name('quiet');
    await box.up(name, ['--idle-stop', IDLE]);
    // This exec leaves spoon's ssh master connection open: a connection is no work.
    const wrote = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo kept-data > ~/kept']);
    assert.equal(wrote.code, 0, wrote.stderr);

    const env = await waitFor('the watcher to report', async () => {
      const e = await listed(name);
      return e?.idleSeconds !== null ? e : undefined;
    });
    assert.equal(env?.idleStop, IDLE);
    assert.equal(typeof env?.idleSeconds, 'number');
    const text = await box.spoon(['list']);
    assert.match(text.stdout, /\bIDLE\b/);
    assert.match(text.stdout.split('\n').find((l) => l.startsWith(name)) ?? '', /\d+s\/6s/);
    const doctor = await box.spoon(['doctor']);
    assert.match(doctor.stdout, new RegExp(`env ${name}: .*idle_stop 6s`));

    await stopped(name);
    const c = await inspect(`spoon-${name}`);
    assert.equal((c?.State as { ExitCode?: number } | undefined)?.ExitCode, 0, 'a clean stop: the main process exited 0');
    assert.equal((await listed(name))?.idleSeconds, null, 'a stopped env has no idle time');

    const read = await box.spoon(['exec', name, '--', 'sh', '-c', 'cat ~/kept']);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim(), 'kept-data');
    assert.equal(await state(name), 'running');
    // It watches again after the start.
    await stopped(name);
  });

  test('typing in a tmux client keeps it up; an attached client nobody types in does not', async () => {
    const name = box.name('typing');
    await box.up(name, ['--idle-stop', IDLE]);
    const env = box.env();
    const cmd = `env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${name}; sleep 60`;
    const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'typist', '-x', '120', '-y', '30', cmd);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the attach', () => (tmux('capture-pane', '-p', '-t', 'typist:0.0').stdout.includes('[pair]') ? true : undefined));

    await staysUp(name, (round) => {
      // A key every other second: far apart enough that nothing else keeps it busy.
      if (round % 2 === 0) tmux('send-keys', '-t', 'typist:0.0', `: typing-${round}`, 'Enter');
    });
    // Still attached, nobody typing: it stops, and the attach says why.
    await stopped(name);
    await waitFor('the attach to say why it ended', () => (tmux('capture-pane', '-p', '-J', '-t', 'typist:0.0').stdout.includes(`${name} has stopped: it stops itself after 6s`) ? true : undefined));
  });

  test('a busy process keeps it up with nobody attached; it stops once the process ends', async () => {
    const name = box.name('busy');
    await box.up(name, ['--idle-stop', IDLE]);
    const started = await box.spoon(['exec', name, '--', 'sh', '-c', 'nohup sh -c "while :; do :; done" >/dev/null 2>&1 & echo $! > /tmp/busy.pid']);
    assert.equal(started.code, 0, started.stderr);

    await staysUp(name);
    const killed = await box.spoon(['exec', name, '--', 'sh', '-c', 'kill "$(cat /tmp/busy.pid)"']);
    assert.equal(killed.code, 0, killed.stderr);
    await stopped(name);
  });

  test('a running `spoon exec` (an ssh session, no CPU) keeps it up; it stops once the command ends', async () => {
    const name = box.name('session');
    await box.up(name, ['--idle-stop', IDLE]);
    const running = box.spoon(['exec', name, '--', 'sleep', String(BEYOND_IDLE_MS / 1000 + 3)]);
    await waitFor('the command to run', async () => ((await box.spoon(['exec', name, '--', 'pgrep', '-x', 'sleep'])).code === 0 ? true : undefined));
    await staysUp(name);
    assert.equal((await running).code, 0);
    await stopped(name);
  });

  test('an open forward keeps it up; it stops once the forward ends', async () => {
    const name = box.name('fwd');
    await box.up(name, ['--idle-stop', IDLE]);
    const port = await freePort();
    const child = spawn(process.execPath, [SPOON, 'forward', name, `${port}:22`], { env: box.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor('the forward', () => (stderr.includes('forwarding') ? true : undefined));
      await staysUp(name);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    await stopped(name);
  });

  test('bad values exit 2 naming where they came from; `spoon config` shows the setting', async () => {
    const flag = await box.spoon(['up', box.name('bad'), '-N', '--label', box.label, '--idle-stop', '5x']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /--idle-stop: invalid duration '5x'/);
    const variable = await box.spoon(['exec', box.name('bad'), '--', 'true'], { env: { SPOON_IDLE_STOP: 'forever' } });
    assert.equal(variable.code, 2, variable.stderr);
    assert.match(variable.stderr, /SPOON_IDLE_STOP: invalid duration 'forever'/);
    const project = join(box.dir, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'spoon.toml'), 'idle_stop = 90\n');
    const file = await box.spoon(['up', box.name('bad'), '-N', '--label', box.label], { cwd: project });
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /spoon\.toml:1: idle_stop: invalid duration 90/);
    assert.equal(await state(box.name('bad')), undefined, 'nothing was made');

    writeFileSync(join(project, 'spoon.toml'), 'idle_stop = "1h30m"\n');
    const shown = await box.spoon(['config'], { cwd: project });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^idle_stop\s+1h30m\s+\S*spoon\.toml/m);
    const json = await box.spoon(['config', '--json'], { cwd: project, env: { SPOON_IDLE_STOP: '2h' } });
    const keys = (JSON.parse(json.stdout) as { keys: Record<string, { value: unknown; where: string }> }).keys;
    assert.deepEqual([keys.idle_stop?.value, keys.idle_stop?.where], [7200, 'SPOON_IDLE_STOP']);
  });
});
