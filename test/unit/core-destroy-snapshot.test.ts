/**
 * destroy and snapshot against the in-memory engine: which objects go and which stay,
 * what a snapshot is labelled, that a running env is paused only around the commit
 * and copy, and that a failed snapshot leaves nothing behind.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ensureEnv } from '../../src/core/ensure-env.js';
import { destroyEnv } from '../../src/core/lifecycle.js';
import { listSnapshots, takeSnapshot } from '../../src/core/snapshot.js';
import { HELPER } from '../../src/pairing/env-helper.js';
import { EngineApiError } from '../../src/engine/engine.js';
import { NoSuchEnvError } from '../../src/errors.js';
import { fakeSetup, type FakeSetup } from '../support/fake-context.js';

let s: FakeSetup;
beforeEach(() => (s = fakeSetup()));
afterEach(() => s.dispose());

const PREFIX = 'spoon-';
const ensure = (name: string, plan = s.plan()) => ensureEnv(s.ctx, name, plan, { explicitSettings: false });

describe('destroy', () => {
  test('removes the container and what spoon knew of it; keeps every persist volume', async () => {
    await ensure('web', s.plan({ persist: ['~', '/opt/data'] }));
    const r = await destroyEnv(s.ctx, 'web', PREFIX, false);
    assert.deepEqual(r, { container: true, volumes: [], keptVolumes: ['spoon-web-home', 'spoon-web-opt-data'] });
    assert.equal(s.engine.containers.size, 0);
    assert.deepEqual([...s.engine.volumes.keys()], ['spoon-web-home', 'spoon-web-opt-data']);
    assert.equal(existsSync(s.ctx.paths.envDir('web')), false);
  });

  test('--volumes removes its volumes, after the container, and no other env\'s', async () => {
    await ensure('web');
    await ensure('other');
    s.engine.calls.length = 0;
    const r = await destroyEnv(s.ctx, 'web', PREFIX, true);
    assert.deepEqual(r.volumes, ['spoon-web-home']);
    assert.deepEqual(s.engine.methods('removeContainer', 'removeVolume'), ['removeContainer', 'removeVolume']);
    assert.deepEqual([...s.engine.volumes.keys()], ['spoon-other-home']);
    assert.ok(s.engine.envContainer('other'));
  });

  test('volumes without a container: --volumes removes them; without it there is nothing to destroy', async () => {
    await ensure('web');
    await destroyEnv(s.ctx, 'web', PREFIX, false);
    await assert.rejects(destroyEnv(s.ctx, 'web', PREFIX, false), NoSuchEnvError);
    const r = await destroyEnv(s.ctx, 'web', PREFIX, true);
    assert.deepEqual(r, { container: false, volumes: ['spoon-web-home'], keptVolumes: [] });
    assert.equal(s.engine.volumes.size, 0);
  });
});

describe('snapshot', () => {
  test('pauses a running env around the commit and the volume copies, labels what it makes, and resumes it', async () => {
    const ready = await ensure('web', s.plan({ persist: ['~', '/opt/data'], labels: { team: 'a' } }));
    const id = ready.container.id;
    await s.engine.putFiles(id, [], [
      { path: '/home/dev/notes.txt', content: 'home data', mode: 0o644 },
      { path: '/opt/data/db', content: 'db data', mode: 0o600 },
      { path: '/usr/local/bin/tool', content: 'in the layer', mode: 0o755 },
    ]);
    s.engine.calls.length = 0;

    const snap = await takeSnapshot(s.ctx, { name: 'web', tag: 'v1' }, PREFIX);
    assert.equal(snap.image, 'spoon-snapshot/web:v1');
    assert.deepEqual(snap.volumes, [
      { name: 'spoon-snap-web-v1-opt-data', persist: '/opt/data' },
      { name: 'spoon-snap-web-v1-home', persist: '~' },
    ]);

    const order = s.engine.methods('pauseContainer', 'commitContainer', 'copyPath', 'unpauseContainer');
    assert.deepEqual(order, ['pauseContainer', 'commitContainer', 'copyPath', 'copyPath', 'unpauseContainer']);
    assert.equal(s.engine.container(id)!.state, 'running');
    assert.equal(existsSync(s.ctx.paths.pausedMarker('web')), false);

    const image = s.engine.images.get(snap.imageId)!;
    assert.equal(image.labels['dev.spoon.snapshot'], 'web:v1');
    assert.equal(image.labels['dev.spoon.snapshot-of'], 'web');
    // The image is the container's own layer; the volumes are copied beside it.
    assert.equal(image.files.get('/usr/local/bin/tool')?.content.toString(), 'in the layer');
    assert.equal(image.files.has('/home/dev/notes.txt'), false);

    const home = s.engine.volumes.get('spoon-snap-web-v1-home')!;
    assert.deepEqual(home.labels, { team: 'a', 'dev.spoon.snapshot': 'web:v1', 'dev.spoon.persist': '~' }, 'the env\'s own labels come along, spoon\'s name label does not');
    assert.equal(home.files.get('/notes.txt')?.content.toString(), 'home data');
    assert.equal(s.engine.volumes.get('spoon-snap-web-v1-opt-data')!.files.get('/db')?.mode, 0o600);
    // The containers the copy went through are gone.
    assert.deepEqual([...s.engine.containers.keys()], [id]);
    assert.deepEqual((await listSnapshots(s.ctx, 'web')).map((x) => x.snapshot), ['web:v1']);
  });

  test('a stopped env is committed without a pause', async () => {
    const ready = await ensure('web');
    await s.engine.stopContainer(ready.container.id, 1);
    s.engine.calls.length = 0;
    await takeSnapshot(s.ctx, { name: 'web', tag: 'cold' }, PREFIX);
    assert.deepEqual(s.engine.methods('pauseContainer', 'unpauseContainer'), []);
  });

  test('a tag that exists is refused before anything is paused', async () => {
    await ensure('web');
    await takeSnapshot(s.ctx, { name: 'web', tag: 'v1' }, PREFIX);
    s.engine.calls.length = 0;
    await assert.rejects(takeSnapshot(s.ctx, { name: 'web', tag: 'v1' }, PREFIX), /snapshot web:v1 already exists/);
    assert.deepEqual(s.engine.methods('pauseContainer', 'commitContainer'), []);
  });

  test('a failed copy: the env is resumed and the image and volume copies are removed', async () => {
    const ready = await ensure('web');
    s.engine.failNext('copyPath', new EngineApiError(500, 'no space left on device', 'copying'));
    await assert.rejects(takeSnapshot(s.ctx, { name: 'web', tag: 'v1' }, PREFIX), /no space left on device/);
    assert.equal(s.engine.container(ready.container.id)!.state, 'running');
    assert.deepEqual([...s.engine.volumes.keys()], ['spoon-web-home']);
    assert.equal([...s.engine.images.values()].some((i) => i.tags.some((t) => t.startsWith('spoon-snapshot/'))), false);
    assert.deepEqual([...s.engine.containers.keys()], [ready.container.id]);
  });

  test('up --from: the new env\'s home starts as the snapshot\'s copy, and the snapshot\'s guests are pruned', async () => {
    const ready = await ensure('web');
    await s.engine.putFiles(ready.container.id, [], [{ path: '/home/dev/notes.txt', content: 'from web', mode: 0o644 }]);
    await takeSnapshot(s.ctx, { name: 'web', tag: 'v1' }, PREFIX);
    s.engine.onExec((call) => (call.cmd[0] === HELPER && call.cmd[1] === 'prune' ? { code: 0 } : undefined));

    const plan = { ...s.plan({ image: 'spoon-snapshot/web:v1' }), from: { name: 'web', tag: 'v1' } };
    const copy = await ensure('copy', plan);
    assert.equal(s.engine.fileIn(copy.container.id, '/home/dev/notes.txt'), 'from web');
    assert.deepEqual(s.engine.execs.filter((e) => e.containerId === copy.container.id).map((e) => [e.user, ...e.cmd]), [['root', HELPER, 'prune']]);
    // The source env's home is its own still.
    await s.engine.putFiles(copy.container.id, [], [{ path: '/home/dev/notes.txt', content: 'changed in copy', mode: 0o644 }]);
    assert.equal(s.engine.fileIn(ready.container.id, '/home/dev/notes.txt'), 'from web');
  });
});
