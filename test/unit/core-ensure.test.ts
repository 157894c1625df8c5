/**
 * ensureEnv's decisions against the in-memory engine: what a create makes and in
 * which order, starting a stopped env, removing a half-made one, undoing a failed
 * create, concurrent callers, and an image without sshd.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureEnv } from '../../src/core/ensure-env.js';
import { ENTRYPOINT, HOST_KEY, KEEPALIVE_ENTRYPOINT, PROVISIONED, SSHD_CONFIG } from '../../src/core/provision.js';
import { SshdUnavailableError } from '../../src/core/wait-sshd.js';
import { ContainerNameConflict, EngineApiError, type ContainerSpec } from '../../src/engine/engine.js';
import { readEnvState } from '../../src/state/env-state.js';
import { fakeSetup, type FakeSetup } from '../support/fake-context.js';

let s: FakeSetup;
beforeEach(() => (s = fakeSetup()));
afterEach(() => s.dispose());

const ensure = (name: string, plan = s.plan()) => ensureEnv(s.ctx, name, plan, { explicitSettings: false });

describe('ensureEnv creates', () => {
  test('home volume, container, files before the first start (marker last), state and pin', async () => {
    const ready = await ensure('web', s.plan({ persist: ['~', '/opt/data'], labels: { team: 'a' } }));
    assert.equal(ready.created, true);
    assert.equal(ready.started, true);
    assert.equal(ready.access.kind, 'ssh');

    const vols = [...s.engine.volumes.values()].map((v) => [v.name, v.labels['dev.spoon.name'], v.labels['dev.spoon.persist'], v.labels.team]);
    assert.deepEqual(vols, [
      ['spoon-web-home', 'web', '~', 'a'],
      ['spoon-web-opt-data', 'web', '/opt/data', 'a'],
    ]);
    const c = s.engine.envContainer('web');
    assert.ok(c);
    assert.equal(c.state, 'running');
    assert.deepEqual(c.spec.entrypoint, ENTRYPOINT);
    // sshd must start as root whatever the image's USER.
    assert.equal(c.spec.user, 'root');
    assert.equal(c.spec.labels['dev.spoon.connect'], 'ssh');
    assert.deepEqual(c.spec.mounts.map((m) => [m.source, m.target]), [
      ['spoon-web-home', '/home/dev'],
      ['spoon-web-opt-data', '/opt/data'],
    ]);

    // Provisioning goes in before the container ever runs, in one upload whose last file is the marker.
    const order = s.engine.methods('createContainer', 'putFiles', 'startContainer');
    assert.deepEqual(order, ['createContainer', 'putFiles', 'startContainer']);
    const upload = s.engine.calls.find((x) => x.method === 'putFiles')!.args[2] as { path: string; content: string }[];
    assert.equal(upload.at(-1)!.path, PROVISIONED);
    assert.equal(String(upload.at(-1)!.content).trim(), c.id);
    assert.ok(upload.some((f) => f.path === SSHD_CONFIG));

    const state = readEnvState(s.ctx.paths.envState('web'));
    assert.equal(state?.containerId, c.id);
    assert.equal(state?.sshPort, c.ports.find((p) => p.container === 22)?.host);
    // The pin is the key the container got, not one read back over the network.
    const pin = readFileSync(s.ctx.paths.knownHosts('web'), 'utf8');
    assert.ok(pin.includes(s.engine.fileIn(c.id, `${HOST_KEY}.pub`)!.trim().split(' ').slice(0, 2).join(' ')), pin);
  });

  test('an existing volume is kept, not re-made; a failed create removes only what it made', async () => {
    await s.engine.ensureVolume('spoon-web-home', { 'dev.spoon.name': 'web', 'dev.spoon.persist': '~' });
    s.engine.volumes.get('spoon-web-home')!.files.set('/notes.txt', { kind: 'file', content: Buffer.from('mine'), mode: 0o644, uid: 1000, gid: 1000 });
    s.engine.failNext('startContainer', new EngineApiError(500, 'driver failed programming external connectivity: Bind for 127.0.0.1:2222 failed: port is already allocated', 'starting'));

    await assert.rejects(ensure('web', s.plan({ persist: ['~', '/srv'] })), /cannot start web: host port 127\.0\.0\.1:2222 is already in use/);
    assert.equal(s.engine.envContainer('web'), undefined);
    assert.deepEqual([...s.engine.volumes.keys()], ['spoon-web-home']);
    assert.equal(s.engine.volumes.get('spoon-web-home')!.files.get('/notes.txt')!.content.toString(), 'mine');
  });

  test('a name taken between the check and the create is reported, not retried', async () => {
    s.engine.failNext('createContainer', new ContainerNameConflict('spoon-web'));
    await assert.rejects(ensure('web'), /a container named spoon-web appeared while spoon was creating it/);
  });

  test('an image without sshd: made again to be entered through the engine', async () => {
    s.engine.addImage(['plain:1'], { files: { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' } });
    const ready = await ensure('bare', s.plan({ image: 'plain:1' }));
    assert.deepEqual(ready.access, { kind: 'exec', user: undefined, tmux: false });
    const creates = s.engine.calls.filter((x) => x.method === 'createContainer').map((x) => (x.args[0] as ContainerSpec).entrypoint);
    assert.deepEqual(creates, [ENTRYPOINT, KEEPALIVE_ENTRYPOINT]);
    const c = s.engine.envContainer('bare')!;
    assert.equal(c.spec.labels['dev.spoon.connect'], 'exec');
    assert.deepEqual(c.spec.publish, [], 'no ssh port without sshd');
    assert.equal(s.engine.containers.size, 1);
    assert.ok(s.said.some((x) => x.kind === 'info' && /has no sshd: spoon enters bare through the engine as the image's user/.test(x.message)));
  });

  test('an image with sshd but without the user is refused, and nothing is left', async () => {
    s.engine.addSshImage(['other:1'], { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' });
    await assert.rejects(ensure('web', s.plan({ image: 'other:1' })), /image 'other:1' has no user 'dev'/);
    assert.equal(s.engine.containers.size, 0);
    assert.equal(s.engine.volumes.size, 0);
  });
});

describe('ensureEnv with an existing container', () => {
  test('a stopped env is started with a new port, not re-created', async () => {
    const first = await ensure('web');
    const id = first.container.id;
    await s.engine.stopContainer(id, 1);
    s.engine.calls.length = 0;
    const again = await ensure('web');
    assert.equal(again.created, false);
    assert.equal(again.started, true);
    assert.equal(again.container.id, id);
    assert.deepEqual(s.engine.methods('createContainer', 'startContainer', 'removeContainer', 'putFiles'), ['startContainer']);
    assert.equal(readEnvState(s.ctx.paths.envState('web'))?.sshPort, s.engine.container(id)!.ports[0]!.host);
  });

  test('a running env is neither started nor touched', async () => {
    await ensure('web');
    s.engine.calls.length = 0;
    const again = await ensure('web');
    assert.equal(again.started, false);
    assert.deepEqual(s.engine.methods('createContainer', 'startContainer', 'putFiles', 'exec'), []);
  });

  test('a paused env is resumed, which is not a start', async () => {
    const first = await ensure('web');
    await s.engine.pauseContainer(first.container.id);
    const again = await ensure('web');
    assert.equal(again.started, false);
    assert.equal(s.engine.container(first.container.id)!.state, 'running');
    assert.deepEqual(s.engine.methods('unpauseContainer'), ['unpauseContainer']);
  });

  test('a half-made container (created, never started, no marker of its own) is removed and made again', async () => {
    const spec = { name: 'spoon-web', image: 'spoon-default', labels: { 'dev.spoon.name': 'web' }, entrypoint: ENTRYPOINT, cmd: [], publish: [], mounts: [] };
    const half = await s.engine.createContainer({ ...spec, image: [...s.engine.images.values()][0]!.id });
    // A marker naming another container (a snapshot's image carries its env's) does not count.
    await s.engine.putFiles(half, [], [{ path: PROVISIONED, content: 'someone-else\n', mode: 0o644 }]);
    const ready = await ensure('web');
    assert.equal(ready.created, true);
    assert.notEqual(ready.container.id, half);
    assert.equal(s.engine.container(half), undefined);
    assert.ok(s.said.some((x) => x.message === 'removing the half-made container of web left by an interrupted create'));
  });

  test('a created container with its own marker is finished work: started, not removed', async () => {
    const first = await ensure('web');
    const c = s.engine.container(first.container.id)!;
    // As if spoon was stopped between provisioning and the start.
    await s.engine.stopContainer(c.id, 1);
    c.state = 'created';
    c.startedAt = undefined;
    const again = await ensure('web');
    assert.equal(again.created, false);
    assert.equal(again.container.id, c.id);
  });

  test('a container that dies as it starts: a healable error with its last log lines', async () => {
    const first = await ensure('web');
    await s.engine.stopContainer(first.container.id, 1);
    s.engine.container(first.container.id)!.sshd.exitOnStart = { code: 1, log: '/etc/spoon/sshd_config line 3: Bad configuration option' };
    const err = await ensure('web').then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SshdUnavailableError);
    assert.match(err.message, /spoon-web stopped while spoon waited for its sshd \(exit code 1\)/);
    assert.match(err.hint ?? '', /Bad configuration option/);
  });

  test('a container that died (killed on its host) is started again, same container, home kept', async () => {
    const first = await ensure('web');
    await s.engine.putFiles(first.container.id, [], [{ path: '/home/dev/notes.txt', content: 'kept', mode: 0o644 }]);
    s.engine.crash(first.container.id, 137, 'Killed');
    const again = await ensure('web');
    assert.equal(again.container.id, first.container.id);
    assert.equal(again.started, true);
    assert.equal(s.engine.fileIn(again.container.id, '/home/dev/notes.txt'), 'kept');
  });

  test('two concurrent callers end with one container, and both get it', async () => {
    const [a, b] = await Promise.all([ensure('web'), ensure('web')]);
    assert.equal(a.container.id, b.container.id);
    assert.equal(s.engine.containers.size, 1);
    assert.deepEqual(s.engine.methods('createContainer'), ['createContainer']);
    assert.equal([a.created, b.created].filter(Boolean).length, 1);
  });
});
