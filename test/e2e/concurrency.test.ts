/**
 * Concurrent and interrupted creates: two `up`s of one env end with one container
 * and both succeed; kill -9 during create leaves nothing that trips the next
 * `spoon NAME` (Ctrl-C at each phase: interrupts.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, containersLabelled, defaultImageTag, useSandbox } from './harness.js';

const box = useSandbox();

/** Starts `spoon up NAME -N` in the background and returns the child and its exit promise. */
function startUp(name: string) {
  const child = spawn(process.execPath, [SPOON, 'up', name, '-N', '--label', box.label], { env: box.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, stderr })),
  );
  return { child, exited };
}

describe('concurrency and interruption', () => {
  test('two `up` of the same env at once: both succeed, one container', async () => {
    const name = box.name('twice');
    const [a, b] = [startUp(name), startUp(name)];
    const [ra, rb] = await Promise.all([a.exited, b.exited]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 1);
    const ex = await box.spoon(['exec', name, '--', 'echo', 'one']);
    assert.equal(ex.stdout, 'one\n', ex.stderr);
  });

  for (const [phase, replaced] of [['create:created', true], ['create:provisioned', false]] as const) {
    test(`kill -9 at ${phase}: the next up ${replaced ? 'replaces the half-made container' : 'starts the provisioned one'} and succeeds`, async () => {
      const name = box.name(`kill-${phase.split(':')[1]}`);
      const child = spawn(process.execPath, [SPOON, 'up', name, '-N', '--label', box.label], { env: box.env({ SPOON_TEST_PAUSE_AT: phase }), stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes(`paused at ${phase}`) && resolve()));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      const [left] = await containersLabelled(`dev.spoon.name=${name}`);
      assert.ok(left, 'kill -9 left the container behind (no undo ran)');

      const again = await box.spoon(['up', name, '-N', '--label', box.label]);
      assert.equal(again.code, 0, again.stderr);
      const now = await containersLabelled(`dev.spoon.name=${name}`);
      assert.equal(now.length, 1);
      if (replaced) {
        assert.match(again.stderr, /removing the half-made container/);
        assert.notEqual(now[0]?.Id, left.Id, 'a new container replaced the half-made one');
      } else {
        assert.doesNotMatch(again.stderr, /half-made/);
        assert.equal(now[0]?.Id, left.Id, 'the provisioned container was kept and started');
      }
      assert.equal((await box.spoon(['exec', name, '--', 'echo', 'ok'])).stdout, 'ok\n');
    });
  }

  test('a container that was created but never provisioned is replaced, not started', async () => {
    // What a kill -9 right after create leaves behind, made deterministically.
    const name = box.name('halfmade');
    const img = await defaultImageTag();
    const made = await api<{ Id: string }>('POST', `/containers/create?name=spoon-${name}`, {
      Image: img,
      Labels: { 'dev.spoon.name': name, 'test.spoon.run': box.runId },
      Entrypoint: ['/bin/sh', '-c', 'sleep 1000'],
    });
    assert.equal(made.status, 201);
    const r = await box.spoon(['up', name, '-N', '--label', box.label]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /removing the half-made container/);
    const now = await containersLabelled(`dev.spoon.name=${name}`);
    assert.equal(now.length, 1);
    assert.notEqual(now[0]?.Id, made.body?.Id, 'a new container replaced the half-made one');
  });

  test('10 different envs and 5 more of one, all at once: every up succeeds, one container per name', async () => {
    const many = Array.from({ length: 10 }, (_, i) => box.name(`many${i}`));
    const same = box.name('same5');
    const runs = [...many, ...Array.from({ length: 5 }, () => same)].map((n) => startUp(n));
    const results = await Promise.all(runs.map((r) => r.exited));
    results.forEach((r, i) => assert.equal(r.code, 0, `up #${i}: ${r.stderr}`));
    for (const n of [...many, same]) assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 1, `one container for ${n}`);
    assert.equal((await box.spoon(['exec', same, '--', 'echo', 'ok'])).stdout, 'ok\n');
    await Promise.all(many.map((n) => box.spoon(['destroy', n, '-f', '--volumes'])));
  });

  test('a damaged state file is reported and rebuilt from the engine', async () => {
    const n = box.name('damaged');
    await box.up(n);
    const file = join(box.stateHome, 'spoon', 'envs', n, 'state.json');
    writeFileSync(file, '{"containerId": tru');
    const r = await box.spoon(['exec', n, '--', 'echo', 'fine']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'fine\n');
    assert.match(r.stderr, /warning: .*state\.json was damaged; spoon rebuilds it from the engine/);
    const rebuilt = JSON.parse(readFileSync(file, 'utf8')) as { containerId: string };
    assert.match(rebuilt.containerId, /^[0-9a-f]{64}$/);
    assert.doesNotMatch((await box.spoon(['exec', n, '--', 'true'])).stderr, /damaged/, 'reported once, then fine');
  });
});
