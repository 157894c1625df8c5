import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyEntries } from '../../src/core/copy-files.js';
import { UsageError } from '../../src/errors.js';

const owner = { uid: 1000, gid: 1000, home: '/home/dev' };
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoon-copy-'));
  mkdirSync(join(dir, 'store', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'store', 'file.txt'), 'real file\n', { mode: 0o640 });
  writeFileSync(join(dir, 'store', 'sub', 'deep.txt'), 'deep\n');
  symlinkSync(join(dir, 'store', 'file.txt'), join(dir, 'abs-link'));
  symlinkSync('store/file.txt', join(dir, 'rel-link'));
  symlinkSync(join(dir, 'store', 'sub'), join(dir, 'dir-link'));
  symlinkSync(join(dir, 'store', 'file.txt'), join(dir, 'store', 'sub', 'abs-inside'));
  symlinkSync('../file.txt', join(dir, 'store', 'sub', 'rel-inside'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
  mkdirSync(join(dir, 'cyclic'));
  symlinkSync('..', join(dir, 'cyclic', 'up'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const contents = (specs: { from: string; to: string }[]) =>
  Object.fromEntries(copyEntries(specs.map((s) => ({ ...s, from: join(dir, s.from), mode: undefined })), owner).files.map((f) => [f.path, f.content.toString()]));

describe('copyEntries follows symbolic links', () => {
  test('an absolute link to a file is copied as that file, with its mode', () => {
    const { files } = copyEntries([{ from: join(dir, 'abs-link'), to: '~/a.txt', mode: undefined }], owner);
    assert.equal(files.length, 1);
    assert.equal(files[0]?.path, '/home/dev/a.txt');
    assert.equal(files[0]?.content.toString(), 'real file\n');
    assert.equal(files[0]?.mode, 0o640);
  });

  test('a relative link to a file', () => {
    assert.deepEqual(contents([{ from: 'rel-link', to: '~/r.txt' }]), { '/home/dev/r.txt': 'real file\n' });
  });

  test('an absolute link to a folder, and absolute and relative links inside it', () => {
    assert.deepEqual(contents([{ from: 'dir-link', to: '~/d' }]), {
      '/home/dev/d/abs-inside': 'real file\n',
      '/home/dev/d/deep.txt': 'deep\n',
      '/home/dev/d/rel-inside': 'real file\n',
    });
  });

  const bad: [string, string, RegExp][] = [
    ['a link to nothing', 'dangling', /^copy: \S+\/dangling links to \S+\/nowhere, which does not exist$/],
    ['a link to itself', 'loop', /^copy: \S+\/loop is a loop of symbolic links$/],
    ['a folder with a link to its parent', 'cyclic', /^copy: \S+\/cyclic\/up\/cyclic leads back to \S+\/cyclic, a folder it is in$/],
    ['a file that is not there', 'missing', /^copy: \S+\/missing does not exist$/],
  ];
  for (const [what, from, message] of bad) {
    test(`${what} is a usage error`, () => {
      assert.throws(() => copyEntries([{ from: join(dir, from), to: '~/x', mode: undefined }], owner), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
