/**
 * The engine itself fails: dockerd is killed (SIGKILL) while an env runs and started
 * again. Runs in its own phase after the other end-to-end tests (scripts/run-tests.mjs),
 * since every env on the engine goes through the restart.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, api, inspect, useSandbox, waitFor } from '../e2e/harness.js';

const box = useSandbox();
const name = box.name('dockerd');

const engineAnswers = async (): Promise<boolean> => (await api('GET', '/_ping').catch(() => ({ status: 0 }))).status === 200;

describe('engine restart', () => {
  test('dockerd killed and started again while an env runs: spoon brings the env back, its home intact', async () => {
    await box.up(name);
    assert.equal((await box.spoon(['exec', name, '--', 'sh', '-c', 'echo before-the-crash > ~/work.txt'])).code, 0);

    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    assert.ok(pid > 1, 'dockerd wrote its pid file');
    // It is started again with the arguments it had, so the engine after the test is the one before it.
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1);
    assert.ok(args.every((a) => !/\s/.test(a)), `dockerd's arguments can be passed on: ${args.join(' ')}`);
    process.kill(pid, 'SIGKILL');
    await waitFor('the engine to stop answering', async () => ((await engineAnswers()) ? undefined : true));

    // Without the engine, commands that need it fail cleanly, naming the engine.
    const down = await box.spoon(['list']);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /^spoon: .*engine/m);
    assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack trace');

    // Started again the way CI starts it; without live-restore it stops the containers it finds.
    const started = spawnSync('bash', [join(ROOT, 'scripts', 'setup-engine.sh')], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, DOCKERD_ARGS: args.join(' ') } });
    assert.equal(started.status, 0, `setup-engine.sh: ${started.stdout}${started.stderr}`);
    assert.ok(await engineAnswers());
    assert.notEqual((await inspect(`spoon-${name}`))?.State.Status, 'running', 'the restart stopped the env (else this test proves nothing)');

    const back = await box.spoon(['exec', name, '--', 'cat', 'work.txt']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'before-the-crash\n');
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'running');
    // The cached connection was to the old sshd: attaching again goes straight through.
    const again = await box.spoon(['exec', name, '--', 'true']);
    assert.equal(again.code, 0, again.stderr);
  });
});
