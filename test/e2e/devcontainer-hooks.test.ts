/**
 * devcontainer.json's lifecycle hooks as the devcontainers CLI runs them (checked
 * against CLI 0.89: initializeCommand on every `up`, on the host in the project folder,
 * before the container exists; onCreate, updateContent, postCreate once; postStart on
 * every start; postAttach on every attach, not on exec), plus waitFor on an attach and
 * hostRequirements against the engine's /info.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, containersLabelled, defaultImageTag, host, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const socket = `spoon-hooks-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);

after(() => {
  tmux('kill-server');
});

/** A project folder with a devcontainer.json; returns its path. */
async function project(dir: string, props: Record<string, unknown>): Promise<string> {
  const path = join(box.dir, dir);
  mkdirSync(join(path, '.devcontainer'), { recursive: true });
  mkdirSync(join(path, '.git'), { recursive: true });
  const config = { image: await defaultImageTag(), customizations: { spoon: { labels: { 'test.spoon.run': box.runId } } }, ...props };
  writeFileSync(join(path, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
  return path;
}

/** Appends the hook's name to /tmp/hooks in the env. */
const mark = (hook: string) => `echo ${hook} >> /tmp/hooks`;

/** `spoon NAME` in a host tmux pane (a real terminal); resolves with its exit status once it ends. */
async function attach(name: string, cwd: string): Promise<number> {
  const env = box.env();
  const status = join(box.dir, `attach-${name}-${Date.now()}`);
  const cmd = `cd '${cwd}' && env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${name}; echo $? > '${status}'; sleep 60`;
  const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', `c${Date.now()}`, '-x', '150', '-y', '40', cmd);
  assert.equal(r.code, 0, r.stderr);
  const code = await waitFor(`spoon ${name} in a terminal to end`, () => (existsSync(status) ? readFileSync(status, 'utf8').trim() : undefined), 120_000);
  return Number(code);
}

async function hooks(name: string, cwd: string): Promise<string[]> {
  const r = await box.spoon(['exec', name, '--', 'cat', '/tmp/hooks'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

describe('devcontainer.json lifecycle hooks', () => {
  test('order and count across create, exec, stop+start, up, attach and recreate; initializeCommand on the host first', async () => {
    const name = box.name('hooks');
    const hostLog = join(box.dir, 'host.log');
    // `command` ends the attached session at once: enough to show that an attach happened.
    const dir = await project('hooks', {
      initializeCommand: `s=$(docker inspect -f '{{.State.Status}}' spoon-${name} 2>/dev/null | tr -d '\\n'); [ -n "$s" ] || s=absent; echo "init $(pwd) $s" >> '${hostLog}'`,
      onCreateCommand: mark('onCreate'),
      updateContentCommand: ['sh', '-c', mark('updateContent')],
      postCreateCommand: { a: mark('postCreate') },
      postStartCommand: mark('postStart'),
      postAttachCommand: mark('postAttach'),
      customizations: { spoon: { labels: { 'test.spoon.run': box.runId }, command: 'true' } },
    });
    const hostLines = () => readFileSync(hostLog, 'utf8').trim().split('\n');

    // Create: initializeCommand on the host in the project folder, before the container exists.
    const up = await box.spoon(['up', name, '-N'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(hostLines(), [`init ${dir} absent`]);
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'updateContent', 'postCreate', 'postStart']);
    // `spoon exec` on a running env, like `devcontainer exec`: no hook at all.
    assert.deepEqual(hostLines(), [`init ${dir} absent`]);

    // Stop, then exec starts it: initializeCommand before the start, then postStart.
    assert.equal((await box.spoon(['stop', name], { cwd: dir })).code, 0);
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'updateContent', 'postCreate', 'postStart', 'postStart']);
    assert.deepEqual(hostLines().slice(1), [`init ${dir} exited`]);

    // `spoon up` on a running env runs initializeCommand (as `devcontainer up` does), nothing in the env.
    assert.equal((await box.spoon(['up', name, '-N'], { cwd: dir })).code, 0);
    assert.deepEqual(hostLines().slice(2), [`init ${dir} running`]);
    assert.equal((await hooks(name, dir)).length, 5);

    // Each attach: initializeCommand, then postAttach (twice: the second over the cached connection).
    assert.equal(await attach(name, dir), 0);
    assert.equal(await attach(name, dir), 0);
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'updateContent', 'postCreate', 'postStart', 'postStart', 'postAttach', 'postAttach']);
    assert.deepEqual(hostLines().slice(3), [`init ${dir} running`, `init ${dir} running`]);

    // Recreate: everything once more, in a new container.
    assert.equal((await box.spoon(['destroy', name, '-f'], { cwd: dir })).code, 0);
    assert.equal((await box.spoon(['up', name, '-N'], { cwd: dir })).code, 0);
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'updateContent', 'postCreate', 'postStart']);
    assert.deepEqual(hostLines().slice(5), [`init ${dir} absent`]);
  });

  for (const [kind, image] of [
    ['sshd', undefined],
    ['no sshd: through the engine', 'debian:bookworm'],
  ] as const) {
  test(`on an attach, what follows waitFor goes on in the background; a failure there is told at the next connect (${kind})`, async () => {
    const name = box.name(image ? 'waitx' : 'wait');
    const dir = await project(image ? 'waitx' : 'wait', {
      ...(image ? { image } : {}),
      waitFor: 'onCreateCommand',
      onCreateCommand: mark('onCreate'),
      postCreateCommand: `sleep 3; ${mark('postCreate')}; exit 3`,
      postAttachCommand: mark('postAttach'),
      // The session shows what had run when the terminal was handed over.
      customizations: { spoon: { labels: { 'test.spoon.run': box.runId }, command: 'cp /tmp/hooks /tmp/at-attach' } },
    });
    assert.equal(await attach(name, dir), 0);
    const at = await box.spoon(['exec', name, '--', 'cat', '/tmp/at-attach'], { cwd: dir });
    assert.equal(at.stdout, 'onCreate\n');
    // postCreate goes on, fails, and stops the chain there (postAttach never runs).
    await waitFor('postCreateCommand to end in the background', async () => {
      const r = await box.spoon(['exec', name, '--', 'cat', '/tmp/spoon-setup.state'], { cwd: dir });
      return r.stdout.startsWith('failed') ? r.stdout : undefined;
    });
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'postCreate']);
    const log = await box.spoon(['exec', name, '--', 'cat', '/tmp/spoon-setup.log'], { cwd: dir });
    assert.match(log.stdout, /== postCreateCommand/);

    assert.equal((await box.spoon(['stop', name], { cwd: dir })).code, 0);
    const again = await box.spoon(['up', name, '-N'], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /postCreateCommand failed in the background in \S+ with exit status 3/);
  });
  }

  test('`up -N` waits for every command, whatever waitFor says', async () => {
    const name = box.name('waitall');
    const dir = await project('waitall', { waitFor: 'onCreateCommand', onCreateCommand: mark('onCreate'), postCreateCommand: `sleep 2; ${mark('postCreate')}` });
    const up = await box.spoon(['up', name, '-N'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await hooks(name, dir), ['onCreate', 'postCreate']);
  });

  test('a failing initializeCommand stops spoon with its status before anything is created; the object form runs in parallel', async () => {
    const name = box.name('initfail');
    const dir = await project('initfail', { initializeCommand: { ok: 'touch ran-ok', bad: ['sh', '-c', 'touch ran-bad; exit 7'] }, onCreateCommand: mark('onCreate') });
    const r = await box.spoon(['up', name, '-N'], { cwd: dir });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /initializeCommand bad \(sh -c 'touch ran-bad; exit 7'\) failed on this host with exit status 7/);
    assert.ok(existsSync(join(dir, 'ran-ok')) && existsSync(join(dir, 'ran-bad')), 'both parts ran, in the project folder');
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0);
  });

  test('hostRequirements beyond the engine: exit 1 naming the numbers, nothing created', async () => {
    const info = (await api<{ NCPU: number; MemTotal: number }>('GET', '/info')).body!;
    const cpus = info.NCPU + 1;
    const gb = Math.ceil(info.MemTotal / 2 ** 30) + 8;
    const name = box.name('hostreq');
    const dir = await project('hostreq', { hostRequirements: { cpus, memory: `${gb}gb`, storage: '1tb' } });
    const r = await box.spoon(['up', name, '-N'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const file = join(dir, '.devcontainer', 'devcontainer.json');
    assert.ok(r.stderr.includes(`${file}:`), r.stderr);
    assert.ok(r.stderr.includes(`hostRequirements.cpus asks for ${cpus} CPUs; the engine has ${info.NCPU}`), r.stderr);
    assert.ok(r.stderr.includes(`hostRequirements.memory asks for ${gb}gb (${gb.toFixed(1)} GiB); the engine has ${(info.MemTotal / 2 ** 30).toFixed(1)} GiB`), r.stderr);
    assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0);

    // What the engine has is enough (memory as the machine is sold: MemTotal in whole GiB, rounded).
    const fits = box.name('hostfit');
    const ok = await project('hostfit', { hostRequirements: { cpus: info.NCPU, memory: `${Math.round(info.MemTotal / 2 ** 30)}gb` } });
    const r2 = await box.spoon(['up', fits, '-N'], { cwd: ok });
    assert.equal(r2.code, 0, r2.stderr);
  });
});
