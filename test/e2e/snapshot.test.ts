/**
 * Snapshots against the real engine: `snapshot NAME TAG` is a point in time of the
 * container's filesystem and of its persist volumes, `up NEW --from NAME:TAG` gives
 * back the same bytes, modes, owners and symlinks (in the home volume and outside
 * it), `snapshots` lists it, `snapshot rm` removes its image and volumes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, inspect, useSandbox, volumeExists } from './harness.js';

const box = useSandbox();
const a = box.name('snap-a');
const b = box.name('snap-b');

after(async () => {
  // Snapshot volumes carry the run label (box.cleanup removes them); the images do not.
  for (const env of [a, b]) {
    const filters = encodeURIComponent(JSON.stringify({ label: [`dev.spoon.snapshot-of=${env}`] }));
    const images = (await api<{ Id: string }[]>('GET', `/images/json?filters=${filters}`)).body ?? [];
    for (const img of images) await api('DELETE', `/images/${img.Id}?force=1`);
  }
});

/** A tree with text, random binary bytes, an empty file, odd names, a deep folder, modes, a symlink and a long name. */
const MAKE_TREE = (dir: string, owner: string) => `set -e
mkdir -p ${dir}/sub/deep
cd ${dir}
printf 'hello\\n' > a.txt
head -c 65536 /dev/urandom > random.bin
: > empty
printf 'spaces\\n' > 'with space.txt'
head -c 3000 /dev/urandom > sub/deep/secret && chmod 0600 sub/deep/secret
printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 0755 run.sh
printf 'long\\n' > sub/${'n'.repeat(120)}
ln -s a.txt link-to-a
ln -s /etc/hostname abs-link
chmod 0750 sub
chown -R ${owner} ${dir}
`;

/** Every entry's type, mode, owner and link target, then every file's sha256, then modification times (seconds): all sorted. */
const LIST_TREE = (dir: string) =>
  `cd ${dir} && find . -printf '%y %m %u:%g %p -> %l\\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2 && find . ! -type l -exec stat -c '%Y %n' {} + | LC_ALL=C sort -k2`;

async function sh(env: string, script: string): Promise<string> {
  const r = await box.spoon(['exec', env, '--', 'sudo', '-n', 'sh', '-c', script]);
  assert.equal(r.code, 0, `${script}\n${r.stderr}`);
  return r.stdout;
}

const HOME_TREE = '/home/dev/marker';
const OPT_TREE = '/opt/marker';

describe('snapshot', () => {
  let homeBefore = '';
  let optBefore = '';

  test('snapshot NAME TAG commits the env and copies its home volume, pausing it only meanwhile', async () => {
    await box.up(a);
    await sh(a, MAKE_TREE(HOME_TREE, 'dev:dev') + `touch -d '2001-02-03 04:05:06' ${HOME_TREE}/a.txt`);
    await sh(a, MAKE_TREE(OPT_TREE, 'root:root') + `chown dev:dev ${OPT_TREE}/a.txt`);
    homeBefore = await sh(a, LIST_TREE(HOME_TREE));
    optBefore = await sh(a, LIST_TREE(OPT_TREE));
    assert.match(homeBefore, /random\.bin/);
    assert.match(optBefore, /l 777 root:root \.\/link-to-a -> a\.txt/);

    const r = await box.spoon(['snapshot', a, 't1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${a}:t1\n`);
    assert.equal((await inspect(`spoon-${a}`))?.State.Status, 'running', 'the env runs again afterwards');

    const image = await api<{ Config: { Labels: Record<string, string> } }>('GET', `/images/spoon-snapshot/${a}:t1/json`);
    assert.equal(image.status, 200);
    assert.equal(image.body?.Config.Labels['dev.spoon.snapshot'], `${a}:t1`);
    assert.equal(image.body?.Config.Labels['dev.spoon.snapshot-of'], a);
    const vol = await api<{ Labels: Record<string, string> }>('GET', `/volumes/spoon-snap-${a}-t1-home`);
    assert.equal(vol.status, 200);
    assert.equal(vol.body?.Labels['dev.spoon.snapshot'], `${a}:t1`);
    assert.equal(vol.body?.Labels['dev.spoon.persist'], '~');
    assert.equal(vol.body?.Labels['dev.spoon.name'], undefined, 'destroy --volumes of the env leaves its snapshots alone');

    const again = await box.spoon(['snapshot', a, 't1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  test('up NEW --from NAME:TAG has the snapshot\'s bytes, modes and owners, not what changed since', async () => {
    // Change A afterwards: the snapshot is a point in time.
    await sh(a, `printf 'changed\\n' > ${HOME_TREE}/a.txt; rm ${HOME_TREE}/random.bin; rm -r ${OPT_TREE}/sub; touch ${OPT_TREE}/new`);
    assert.notEqual(await sh(a, LIST_TREE(HOME_TREE)), homeBefore);
    assert.notEqual(await sh(a, LIST_TREE(OPT_TREE)), optBefore);

    await box.up(b, ['--from', `${a}:t1`]);
    assert.equal(await sh(b, LIST_TREE(HOME_TREE)), homeBefore, 'the home tree equals the snapshot');
    assert.equal(await sh(b, LIST_TREE(OPT_TREE)), optBefore, 'the tree outside the home equals the snapshot');
    const c = await inspect(`spoon-${b}`);
    assert.equal(c?.Config.Labels['dev.spoon.name'], b);
    assert.equal(c?.Config.Image, `spoon-snapshot/${a}:t1`);
    assert.ok(await volumeExists(`spoon-${b}-home`));
    // B is a working env of its own: its own host key, entered as dev.
    const who = await box.spoon(['exec', b, '--', 'whoami']);
    assert.equal(who.stdout, 'dev\n');
  });

  test('snapshots lists it, as JSON too', async () => {
    const r = await box.spoon(['snapshots', a, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { snapshot: string; env: string; tag: string; image: string; size: number; volumes: { name: string; persist: string }[] }[];
    const s = list.find((x) => x.snapshot === `${a}:t1`);
    assert.ok(s, r.stdout);
    assert.equal(s.env, a);
    assert.equal(s.tag, 't1');
    assert.equal(s.image, `spoon-snapshot/${a}:t1`);
    assert.ok(s.size > 0);
    assert.deepEqual(s.volumes, [{ name: `spoon-snap-${a}-t1-home`, persist: '~' }]);
    const text = await box.spoon(['snapshots']);
    assert.match(text.stdout, new RegExp(`^${a}:t1 `, 'm'));
  });

  test('bad --from: an unknown snapshot is exit 1 naming it, a malformed one exit 2; an existing env is refused', async () => {
    const missing = await box.spoon(['up', box.name('snap-c'), '-N', '--label', box.label, '--from', 'nope:x']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /no snapshot nope:x/);
    const malformed = await box.spoon(['up', box.name('snap-c'), '-N', '--label', box.label, '--from', 'badformat']);
    assert.equal(malformed.code, 2, malformed.stderr);
    const existing = await box.spoon(['up', b, '-N', '--label', box.label, '--from', `${a}:t1`]);
    assert.equal(existing.code, 1, existing.stderr);
    assert.match(existing.stderr, /already exists/);
  });

  test('snapshot without TAG is tagged with the UTC time', async () => {
    const r = await box.spoon(['snapshot', a]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${a}:\\d{8}-\\d{6}\\n$`));
    const rm = await box.spoon(['snapshot', 'rm', r.stdout.trim()]);
    assert.equal(rm.code, 0, rm.stderr);
  });

  test('snapshot rm removes the image and its volumes; not while an env uses it; unknown is exit 1', async () => {
    const inUse = await box.spoon(['snapshot', 'rm', `${a}:t1`]);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, new RegExp(`image of ${b}`));
    assert.equal((await box.spoon(['destroy', b, '--force', '--volumes'])).code, 0);

    const r = await box.spoon(['snapshot', 'rm', `${a}:t1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await api('GET', `/images/spoon-snapshot/${a}:t1/json`)).status, 404);
    assert.equal(await volumeExists(`spoon-snap-${a}-t1-home`), false);
    assert.ok(await volumeExists(`spoon-${a}-home`), "the env's own home volume is untouched");

    const unknown = await box.spoon(['snapshot', 'rm', `${a}:t1`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no snapshot/);
    assert.equal((await box.spoon(['snapshot', 'rm', 'no-colon'])).code, 2);
  });
});
