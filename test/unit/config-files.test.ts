import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configLayers, findConfigFiles, keyLines, loadConfigFile, unknownKeyHint } from '../../src/config/files.js';
import { resolveOptions } from '../../src/config/layers.js';
import { KEY_NAMES } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder (real path, so it compares equal to what the code computes). */
function tmp(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'spoon-config-')));
  temps.push(dir);
  return dir;
}

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function mkdir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

/** Asserts fn throws a UsageError (exit 2) whose message starts with `prefix` and contains every one of `parts`. */
function assertUsageError(fn: () => unknown, prefix: string, parts: string[] = []): UsageError {
  let caught: UsageError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.startsWith(prefix), `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(prefix)}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(p)}`);
    caught = err;
    return true;
  });
  return caught!;
}

describe('findConfigFiles: the user file', () => {
  test('is $XDG_CONFIG_HOME/spoon/config.toml', () => {
    const root = tmp();
    const user = write(join(root, 'xdg', 'spoon', 'config.toml'), 'image = "a"\n');
    write(join(root, 'home', '.config', 'spoon', 'config.toml'), 'image = "ignored"\n');
    const files = findConfigFiles({ cwd: mkdir(join(root, 'work')), env: { XDG_CONFIG_HOME: join(root, 'xdg'), HOME: join(root, 'home') } });
    assert.equal(files.user, user);
  });

  test('is $HOME/.config/spoon/config.toml when XDG_CONFIG_HOME is unset or empty', () => {
    const root = tmp();
    const user = write(join(root, 'home', '.config', 'spoon', 'config.toml'), 'image = "a"\n');
    const cwd = mkdir(join(root, 'work'));
    assert.equal(findConfigFiles({ cwd, env: { HOME: join(root, 'home') } }).user, user);
    assert.equal(findConfigFiles({ cwd, env: { HOME: join(root, 'home'), XDG_CONFIG_HOME: '' } }).user, user);
  });

  test('is absent when the file does not exist', () => {
    const root = tmp();
    const files = findConfigFiles({ cwd: mkdir(join(root, 'work')), env: { XDG_CONFIG_HOME: join(root, 'xdg'), HOME: join(root, 'home') } });
    assert.equal(files.user, undefined);
    assert.deepEqual(files, {});
  });
});

describe('findConfigFiles: the project file', () => {
  function env(root: string): Record<string, string> {
    return { XDG_CONFIG_HOME: join(root, 'xdg'), HOME: join(root, 'home') };
  }

  test('is found from a subfolder of the project', () => {
    const root = tmp();
    mkdir(join(root, 'repo', '.git'));
    const project = write(join(root, 'repo', 'spoon.toml'), 'image = "a"\n');
    const cwd = mkdir(join(root, 'repo', 'src', 'deep'));
    assert.equal(findConfigFiles({ cwd, env: env(root) }).project, project);
  });

  test('the nearest one wins', () => {
    const root = tmp();
    mkdir(join(root, 'repo', '.git'));
    write(join(root, 'repo', 'spoon.toml'), '');
    const nearer = write(join(root, 'repo', 'sub', 'spoon.toml'), '');
    assert.equal(findConfigFiles({ cwd: mkdir(join(root, 'repo', 'sub', 'x')), env: env(root) }).project, nearer);
  });

  test('the search stops at the git root: a spoon.toml above it is not found', () => {
    const root = tmp();
    write(join(root, 'spoon.toml'), 'image = "outside"\n');
    mkdir(join(root, 'repo', '.git'));
    const cwd = mkdir(join(root, 'repo', 'src'));
    assert.equal(findConfigFiles({ cwd, env: env(root) }).project, undefined);
    assert.equal(findConfigFiles({ cwd: join(root, 'repo'), env: env(root) }).project, undefined);
  });

  test('a .git file (worktree, submodule) marks the git root too', () => {
    const root = tmp();
    write(join(root, 'spoon.toml'), '');
    write(join(root, 'wt', '.git'), 'gitdir: /elsewhere\n');
    assert.equal(findConfigFiles({ cwd: mkdir(join(root, 'wt', 'a')), env: env(root) }).project, undefined);
  });

  test('the git root itself is searched', () => {
    const root = tmp();
    mkdir(join(root, 'repo', '.git'));
    const project = write(join(root, 'repo', 'spoon.toml'), '');
    assert.equal(findConfigFiles({ cwd: mkdir(join(root, 'repo', 'a', 'b')), env: env(root) }).project, project);
  });

  test('without a git root the search goes up to the filesystem root', () => {
    const root = tmp();
    const project = write(join(root, 'spoon.toml'), '');
    assert.equal(findConfigFiles({ cwd: mkdir(join(root, 'a', 'b', 'c', 'd')), env: env(root) }).project, project);
  });
});

describe('findConfigFiles: --config', () => {
  test('a relative path is resolved against cwd', () => {
    const root = tmp();
    const file = write(join(root, 'work', 'conf', 'extra.toml'), '');
    const files = findConfigFiles({ cwd: join(root, 'work'), env: { HOME: join(root, 'home') }, configFlag: 'conf/extra.toml' });
    assert.equal(files.explicit, file);
  });

  test('~/ is the home folder', () => {
    const root = tmp();
    const file = write(join(root, 'home', 'my.toml'), '');
    assert.equal(findConfigFiles({ cwd: root, env: { HOME: join(root, 'home') }, configFlag: '~/my.toml' }).explicit, file);
  });

  test('a missing file is a usage error (exit 2)', () => {
    const root = tmp();
    const err = assertUsageError(
      () => findConfigFiles({ cwd: root, env: { HOME: join(root, 'home') }, configFlag: 'nope.toml' }),
      `--config: no such file: ${join(root, 'nope.toml')}`,
    );
    assert.equal(err.message, `--config: no such file: ${join(root, 'nope.toml')}`);
    assertUsageError(() => configLayers({ cwd: root, env: { HOME: join(root, 'home') }, configFlag: 'nope.toml' }), '--config: no such file');
  });
});

describe('configLayers + resolveOptions', () => {
  /** A temp world: a HOME with a user file, a git repo with spoon.toml, and an extra file for --config. */
  function world(files: { user?: string; project?: string; explicit?: string }) {
    const root = tmp();
    const home = mkdir(join(root, 'home'));
    const xdg = join(root, 'xdg');
    const repo = mkdir(join(root, 'repo'));
    mkdir(join(repo, '.git'));
    const cwd = mkdir(join(repo, 'src'));
    const user = files.user === undefined ? undefined : write(join(xdg, 'spoon', 'config.toml'), files.user);
    const project = files.project === undefined ? undefined : write(join(repo, 'spoon.toml'), files.project);
    const explicit = files.explicit === undefined ? undefined : write(join(root, 'extra', 'extra.toml'), files.explicit);
    const env = { HOME: home, XDG_CONFIG_HOME: xdg };
    const configFlag = explicit === undefined ? undefined : '../../extra/extra.toml';
    return { root, home, repo, cwd, env, user: user!, project: project!, explicit: explicit!, configFlag };
  }

  test('user < project < --config, key by key, and where each value came from', () => {
    const w = world({
      user: ['# my defaults', 'image = "user-image"', 'session = "mine"', 'user = "alice"', ''].join('\n'),
      project: ['image = "project-image"', '', '', 'ports = [3000, "8080:80"]', 'user = "bob"', ''].join('\n'),
      explicit: ['', 'user = "carol"', ''].join('\n'),
    });
    const layers = configLayers({ cwd: w.cwd, env: w.env, configFlag: w.configFlag });
    assert.deepEqual(
      layers.map((l) => [l.kind, l.origin]),
      [
        ['user file', w.user],
        ['project file', w.project],
        ['config file', w.explicit],
      ],
    );
    const { options, sources } = resolveOptions(layers, w.home);
    assert.equal(options.image, 'project-image');
    assert.equal(options.session, 'mine');
    assert.equal(options.user, 'carol');
    assert.deepEqual(options.ports, [
      { host: undefined, container: 3000, protocol: 'tcp' },
      { host: 8080, container: 80, protocol: 'tcp' },
    ]);
    assert.equal(options.prefix, 'spoon-');
    assert.deepEqual(sources.image, { kind: 'project file', origin: w.project, where: `${w.project}:1: image` });
    assert.deepEqual(sources.session, { kind: 'user file', origin: w.user, where: `${w.user}:3: session` });
    assert.deepEqual(sources.ports, { kind: 'project file', origin: w.project, where: `${w.project}:4: ports` });
    assert.deepEqual(sources.user, { kind: 'config file', origin: w.explicit, where: `${w.explicit}:2: user` });
    assert.equal(sources.prefix.kind, 'default');
  });

  test('no files: no layers, all defaults', () => {
    const w = world({});
    assert.deepEqual(configLayers({ cwd: w.cwd, env: w.env }), []);
  });

  test('[env.demo] overrides keys only for the env named demo', () => {
    const w = world({
      project: [
        'image = "base"', // 1
        'session = "pair"', // 2
        '', // 3
        '[env.demo]', // 4
        '# the demo box', // 5
        'image = "demo-image"', // 6
        'cpus = 2', // 7
        '', // 8
        '[env.other]', // 9
        'image = "other-image"', // 10
        '',
      ].join('\n'),
    });
    const demo = configLayers({ cwd: w.cwd, env: w.env, envName: 'demo' });
    assert.deepEqual(
      demo.map((l) => [l.kind, l.origin]),
      [
        ['project file', w.project],
        ['project file', `${w.project} [env.demo]`],
      ],
    );
    assert.equal(demo[1]!.baseDir, w.repo);
    const r = resolveOptions(demo, w.home);
    assert.equal(r.options.image, 'demo-image');
    assert.equal(r.options.cpus, 2);
    assert.equal(r.options.session, 'pair');
    assert.deepEqual(r.sources.image, { kind: 'project file', origin: `${w.project} [env.demo]`, where: `${w.project}:6: image` });
    assert.equal(r.sources.cpus.where, `${w.project}:7: cpus`);
    assert.equal(r.sources.session.where, `${w.project}:2: session`);

    const other = resolveOptions(configLayers({ cwd: w.cwd, env: w.env, envName: 'other' }), w.home);
    assert.equal(other.options.image, 'other-image');
    assert.equal(other.sources.image.where, `${w.project}:10: image`);

    for (const envName of ['nope', undefined]) {
      const layers = configLayers({ cwd: w.cwd, env: w.env, envName });
      assert.equal(layers.length, 1);
      const plain = resolveOptions(layers, w.home);
      assert.equal(plain.options.image, 'base');
      assert.equal(plain.options.cpus, undefined);
    }
  });

  test('each file gives its own [env.NAME] layer right after it', () => {
    const w = world({
      user: 'user = "alice"\n[env.demo]\nuser = "dana"\nsession = "u"\n',
      project: 'user = "bob"\nsession = "p"\n',
    });
    const layers = configLayers({ cwd: w.cwd, env: w.env, envName: 'demo' });
    assert.deepEqual(
      layers.map((l) => l.origin),
      [w.user, `${w.user} [env.demo]`, w.project],
    );
    const r = resolveOptions(layers, w.home);
    assert.equal(r.options.user, 'bob');
    assert.equal(r.options.session, 'p');
  });

  test('inside [env.NAME], env is the environment-variables key', () => {
    const w = world({
      project: [
        '[env.demo]', // 1
        'env = { EDITOR = "vim", N = 1 }', // 2
        '[env.two.env]', // 3
        'A = "x"', // 4
        '[env.three]', // 5
        'env.B = "y"', // 6
        '',
      ].join('\n'),
    });
    const demo = resolveOptions(configLayers({ cwd: w.cwd, env: w.env, envName: 'demo' }), w.home);
    assert.deepEqual(demo.options.env, { EDITOR: 'vim', N: '1' });
    assert.equal(demo.sources.env.where, `${w.project}:2: env`);
    const two = resolveOptions(configLayers({ cwd: w.cwd, env: w.env, envName: 'two' }), w.home);
    assert.deepEqual(two.options.env, { A: 'x' });
    assert.equal(two.sources.env.where, `${w.project}:3: env`);
    const three = resolveOptions(configLayers({ cwd: w.cwd, env: w.env, envName: 'three' }), w.home);
    assert.deepEqual(three.options.env, { B: 'y' });
    assert.equal(three.sources.env.where, `${w.project}:6: env`);
  });

  test('relative builddir and volume host paths resolve against the file folder, not cwd', () => {
    const w = world({
      user: 'builddir = "docker"\n',
      project: 'volumes = ["data:/data", "./shared:/shared:ro", "~/cache:/cache"]\n',
    });
    mkdir(join(w.repo, 'shared'));
    mkdir(join(w.home, 'cache'));
    const r = resolveOptions(configLayers({ cwd: w.cwd, env: w.env }), w.home);
    assert.equal(r.options.builddir, join(dirname(w.user), 'docker'));
    assert.deepEqual(r.options.volumes, [
      { type: 'volume', source: 'data', target: '/data', readOnly: false },
      { type: 'bind', source: join(w.repo, 'shared'), target: '/shared', readOnly: true },
      { type: 'bind', source: join(w.home, 'cache'), target: '/cache', readOnly: false },
    ]);
  });

  test('tables, dotted keys and arrays of tables: where names the line the key starts on', () => {
    const w = world({
      project: [
        'labels.team = "core"', // 1
        '', // 2
        'ports = [', // 3
        '  3000,', // 4
        ']', // 5
        '[env]', // 6
        '[env.demo.labels]', // 7
        'x = "1"', // 8
        '[[copy]]', // 9
        'from = "a.txt"', // 10
        'to = "~/a.txt"', // 11
        '',
      ].join('\n'),
    });
    write(join(w.repo, 'a.txt'), 'a');
    const r = resolveOptions(configLayers({ cwd: w.cwd, env: w.env, envName: 'demo' }), w.home);
    assert.equal(r.sources.ports.where, `${w.project}:3: ports`);
    assert.equal(r.sources.copy.where, `${w.project}:9: copy`);
    assert.equal(r.sources.labels.where, `${w.project}:7: labels`);
    assert.deepEqual(r.options.labels, { x: '1' });
    assert.deepEqual(r.options.copy, [{ from: join(w.repo, 'a.txt'), to: '~/a.txt', mode: undefined }]);
    const [top] = loadConfigFile(w.project, 'project file', undefined);
    assert.equal(top!.where('labels'), `${w.project}:1: labels`);
    assert.equal(top!.where('cpus'), `${w.project}: cpus`);
  });
});

describe('loadConfigFile errors', () => {
  function file(text: string): string {
    return write(join(tmp(), 'spoon.toml'), text);
  }

  test('a TOML syntax error names the file and line, with the reason on one line', () => {
    const path = file('image = "a"\n\nports = [3000,\n');
    const err = assertUsageError(() => loadConfigFile(path, 'project file', undefined), `${path}:4: `, ['invalid TOML']);
    assert.ok(!err.message.includes('\n'), JSON.stringify(err.message));
    const dup = file('image = "a"\nimage = "b"\n');
    assertUsageError(() => loadConfigFile(dup, 'project file', undefined), `${dup}:2: invalid TOML`, ['redefine']);
    const bad = file('# ok\nimage = \n');
    assertUsageError(() => loadConfigFile(bad, 'project file', undefined), `${bad}:2: invalid TOML`);
  });

  test('an unknown top-level key', () => {
    const path = file('image = "a"\n\nfoo = 1\n');
    const err = assertUsageError(() => loadConfigFile(path, 'project file', undefined), `${path}:3: unknown key 'foo'`);
    assert.equal(err.message, `${path}:3: unknown key 'foo'`);
    for (const k of KEY_NAMES) assert.ok(err.hint?.includes(k), `hint should list ${k}: ${err.hint}`);
  });

  test('an unknown key given as a table or a dotted key', () => {
    const table = file('image = "a"\n[tools]\nx = 1\n');
    assertUsageError(() => loadConfigFile(table, 'project file', undefined), `${table}:2: unknown key 'tools'`);
    const dotted = file('\nfoo.bar = 1\n');
    assertUsageError(() => loadConfigFile(dotted, 'project file', undefined), `${dotted}:2: unknown key 'foo'`);
  });

  test("the hint names docker-spoon's keys and near misses", () => {
    assert.match(unknownKeyHint('cpu'), /^'cpu' is docker-spoon's name: spoon calls it 'cpu_shares'/);
    assert.match(unknownKeyHint('copy_on_create'), /spoon calls it 'copy'/);
    assert.match(unknownKeyHint('port'), /^did you mean 'ports'\?/);
    assert.match(unknownKeyHint('zzzzzz'), /^known keys: image, /);
  });

  test('env must be a table; in it, plain values are variables and tables are per-env settings', () => {
    const str = file('image = "a"\nenv = "x"\n');
    assertUsageError(() => loadConfigFile(str, 'project file', undefined), `${str}:2: 'env' must be a table`);
    const list = file('env = [1]\n');
    assertUsageError(() => loadConfigFile(list, 'project file', undefined), `${list}:1: 'env' must be a table`, ['a list']);

    const both = file('image = "a"\n\n[env]\nEDITOR = "vim"\nLEVEL = 3\n\n[env.demo]\nimage = "b"\nenv = { EDITOR = "nano" }\n');
    const [top, demo] = loadConfigFile(both, 'project file', 'demo');
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(top?.values), { image: 'a', env: { EDITOR: 'vim', LEVEL: 3 } });
    assert.deepEqual(plain(demo?.values), { image: 'b', env: { EDITOR: 'nano' } });
    const resolved = resolveOptions(loadConfigFile(both, 'project file', 'demo'), '/home/u');
    assert.deepEqual(resolved.options.env, { EDITOR: 'nano' }, 'the per-env table wins, key by key');
    assert.deepEqual(resolveOptions(loadConfigFile(both, 'project file', 'other'), '/home/u').options.env, { EDITOR: 'vim', LEVEL: '3' });
  });

  test('an invalid environment name in [env.X]', () => {
    const path = file('image = "a"\n\n[env.Demo]\nimage = "b"\n');
    const err = assertUsageError(() => loadConfigFile(path, 'project file', 'Demo'), `${path}:3: invalid environment name 'Demo' in [env.Demo]`);
    assert.equal(err.message, `${path}:3: invalid environment name 'Demo' in [env.Demo]`);
    const quoted = file('[env."my env"]\n');
    assertUsageError(() => loadConfigFile(quoted, 'project file', undefined), `${quoted}:1: invalid environment name 'my env' in [env.my env]`);
  });

  test('an unknown key inside [env.X] (checked even when another env is loaded)', () => {
    const path = file('[env.demo]\nimage = "b"\n# x\nfoo = 1\n');
    for (const envName of ['demo', 'other', undefined]) {
      const err = assertUsageError(() => loadConfigFile(path, 'project file', envName), `${path}:4: unknown key 'foo' in [env.demo]`);
      assert.equal(err.message, `${path}:4: unknown key 'foo' in [env.demo]`);
    }
  });

  test('an unreadable file names the path and the reason', () => {
    const root = tmp();
    assertUsageError(() => loadConfigFile(join(root, 'missing.toml'), 'config file', undefined), `${join(root, 'missing.toml')}: `, ['no such file']);
    const dir = mkdir(join(root, 'dir.toml'));
    assertUsageError(() => loadConfigFile(dir, 'config file', undefined), `${dir}: `, ['folder']);
    if (process.getuid?.() !== 0) {
      const locked = write(join(root, 'locked.toml'), 'image = "a"\n');
      chmodSync(locked, 0o000);
      assertUsageError(() => loadConfigFile(locked, 'config file', undefined), `${locked}: `, ['permission denied']);
    }
  });

  test('a user config path that is a folder is reported, not ignored', () => {
    const root = tmp();
    mkdir(join(root, 'xdg', 'spoon', 'config.toml'));
    assertUsageError(() => configLayers({ cwd: root, env: { XDG_CONFIG_HOME: join(root, 'xdg'), HOME: root } }), join(root, 'xdg', 'spoon', 'config.toml'));
  });
});

describe('wrong value types surface from resolveOptions with file:line: key', () => {
  const cases: [string, string, string][] = [
    ['ports = "x"', 'ports', "invalid value 'x'"],
    ['privileged = "yes please"', 'privileged', 'expected true or false'],
    ['memory = -5', 'memory', 'invalid memory'],
    ['cpus = "many"', 'cpus', 'expected a number'],
    ['image = 3', 'image', 'expected a string'],
    ['user = 1979-05-27T07:32:00Z', 'user', 'expected a string'],
  ];
  for (const [line, key, reason] of cases) {
    test(line, () => {
      const root = tmp();
      const path = write(join(root, 'spoon.toml'), `# spoon\n\n${line}\n`);
      const layers = loadConfigFile(path, 'project file', undefined);
      assertUsageError(() => resolveOptions(layers, root), `${path}:3: ${key}: `, [reason]);
    });
  }

  test('inside [env.demo] the line is the one in the table; a bad value in a later-overridden layer still fails', () => {
    const root = tmp();
    const path = write(join(root, 'spoon.toml'), 'session = "ok"\n[env.demo]\nsession = "not ok!"\n');
    const layers = loadConfigFile(path, 'project file', 'demo');
    assertUsageError(() => resolveOptions(layers, root), `${path}:3: session: invalid value 'not ok!'`);
    const plain = write(join(root, 'b.toml'), 'listen = "nowhere"\n');
    const later = write(join(root, 'c.toml'), 'listen = "0.0.0.0"\n');
    assertUsageError(
      () => resolveOptions([...loadConfigFile(plain, 'user file', undefined), ...loadConfigFile(later, 'config file', undefined)], root),
      `${plain}:1: listen: `,
    );
  });
});

describe('keyLines', () => {
  test('multi-line strings and arrays do not confuse the line count', () => {
    const text = [
      'a = """', // 1
      'b = 1', // 2
      '"""', // 3
      "c = '''x", // 4
      "[d]'''", // 5
      'e = ["]", # ]', // 6
      '  "x"]', // 7
      'f = 1979-05-27 07:32:00 # date', // 8
      '"g.h" = { i = 1, j = { k = "}" } }', // 9
      'l = 2', // 10
      '',
    ].join('\n');
    const lines = keyLines(text);
    const at = (...p: string[]) => lines.get(p.join('\u0000'));
    assert.equal(at('a'), 1);
    assert.equal(at('b'), undefined);
    assert.equal(at('c'), 4);
    assert.equal(at('d'), undefined);
    assert.equal(at('e'), 6);
    assert.equal(at('f'), 8);
    assert.equal(at('g.h'), 9);
    assert.equal(at('g.h', 'j', 'k'), 9);
    assert.equal(at('l'), 10);
  });
});
