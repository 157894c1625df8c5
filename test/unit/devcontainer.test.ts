import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findDevcontainer, loadDevcontainer, parseRequirementSize, type Devcontainer } from '../../src/config/devcontainer.js';
import { unmetRequirements } from '../../src/core/host-requirements.js';
import { resolveOptions } from '../../src/config/layers.js';
import type { EnvOptions } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fresh folder holding `files` (path → content; a path ending in / is a folder). */
function tree(files: Record<string, string>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'spoon-dc-')));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    if (path.endsWith('/')) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}

const HOME = '/home/tester';
const DC = join('.devcontainer', 'devcontainer.json');

interface Loaded {
  root: string;
  file: string;
  dc: Devcontainer;
}

/** A project with `.devcontainer/devcontainer.json` = text (plus `extra` files), loaded. */
function load(text: string, extra: Record<string, string> = {}, env: Record<string, string | undefined> = {}): Loaded {
  const root = tree({ '.git/': '', [DC]: text, ...extra });
  const file = join(root, DC);
  return { root, file, dc: loadDevcontainer(file, { env, home: HOME }) };
}

function options(dc: Devcontainer): EnvOptions {
  return resolveOptions([dc.layer], HOME).options;
}

/** A JSON object literal on separate lines: `{\n  "a": 1,\n  ...\n}`; property k sits on line k+2. */
function json(props: Record<string, unknown>): string {
  return `{\n${Object.entries(props)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n')}\n}\n`;
}

/** The message of the UsageError (exit 2) that fn throws. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('expected a UsageError, nothing was thrown');
}

/** Writes text as the project's devcontainer.json and returns the message its loading fails with. */
function loadError(text: string, extra: Record<string, string> = {}, env: Record<string, string | undefined> = {}): { message: string; file: string; root: string } {
  const root = tree({ '.git/': '', [DC]: text, ...extra });
  const file = join(root, DC);
  return { message: usageError(() => loadDevcontainer(file, { env, home: HOME })), file, root };
}

describe('findDevcontainer', () => {
  test('finds .devcontainer/devcontainer.json in the current folder', () => {
    const root = tree({ '.git/': '', [DC]: '{}' });
    assert.equal(findDevcontainer(root), join(root, DC));
  });

  test('finds .devcontainer.json in the current folder', () => {
    const root = tree({ '.git/': '', '.devcontainer.json': '{}' });
    assert.equal(findDevcontainer(root), join(root, '.devcontainer.json'));
  });

  test('prefers .devcontainer/devcontainer.json over .devcontainer.json', () => {
    const root = tree({ '.git/': '', [DC]: '{}', '.devcontainer.json': '{}' });
    assert.equal(findDevcontainer(root), join(root, DC));
  });

  test('finds the file of a parent from a nested subfolder', () => {
    const root = tree({ '.git/': '', [DC]: '{}', 'src/lib/deep/': '' });
    assert.equal(findDevcontainer(join(root, 'src', 'lib', 'deep')), join(root, DC));
  });

  test('the nearest folder wins', () => {
    const root = tree({ '.git/': '', [DC]: '{}', 'pkg/.devcontainer.json': '{}', 'pkg/src/': '' });
    assert.equal(findDevcontainer(join(root, 'pkg', 'src')), join(root, 'pkg', '.devcontainer.json'));
  });

  test('stops at the git root (a .git folder)', () => {
    const root = tree({ '.devcontainer.json': '{}', 'repo/.git/': '', 'repo/src/': '' });
    assert.equal(findDevcontainer(join(root, 'repo', 'src')), undefined);
    assert.equal(findDevcontainer(join(root, 'repo')), undefined);
  });

  test('stops at the git root (a .git file, as in a worktree)', () => {
    const root = tree({ [DC]: '{}', 'repo/.git': 'gitdir: /elsewhere\n', 'repo/src/': '' });
    assert.equal(findDevcontainer(join(root, 'repo', 'src')), undefined);
  });

  test('the git root itself is searched', () => {
    const root = tree({ 'repo/.git/': '', 'repo/.devcontainer.json': '{}', 'repo/a/b/': '' });
    assert.equal(findDevcontainer(join(root, 'repo', 'a', 'b')), join(root, 'repo', '.devcontainer.json'));
  });

  test('outside a git work tree, parents are searched', () => {
    const root = tree({ '.devcontainer.json': '{}', 'a/b/c/': '' });
    assert.equal(findDevcontainer(join(root, 'a', 'b', 'c')), join(root, '.devcontainer.json'));
  });

  test('a .devcontainer folder without devcontainer.json does not count', () => {
    const root = tree({ '.git/': '', '.devcontainer/Dockerfile': 'FROM x' });
    assert.equal(findDevcontainer(root), undefined);
  });
});

describe('loadDevcontainer: a realistic JSONC file', () => {
  const text = `// For format details, see https://aka.ms/devcontainer.json.
{
  "name": "Node.js & Postgres", // the name shown in the editor
  "$schema": "https://raw.githubusercontent.com/devcontainers/spec/main/schemas/devContainer.schema.json",
  /* The image, and
     nothing else to build. */
  "image": "mcr.microsoft.com/devcontainers/javascript-node:1-20-bookworm",
  "features": {},
  "forwardPorts": [3000, 9229,],
  "portsAttributes": { "3000": { "label": "app" } },
  "containerEnv": { "NODE_ENV": "development", },
  "postCreateCommand": "npm ci",
  "remoteUser": "node",
  "customizations": {
    "vscode": {
      "extensions": ["dbaeumer.vscode-eslint",],
      "settings": { "terminal.integrated.cwd": "\${workspaceFolder}" },
    },
  },
}
`;
  const { root, file, dc } = load(text);

  test('file and folders', () => {
    assert.equal(dc.file, file);
    assert.equal(dc.workspaceFolder, root);
    assert.equal(dc.layer.kind, 'devcontainer');
    assert.equal(dc.layer.origin, file);
    assert.equal(dc.layer.baseDir, join(root, '.devcontainer'));
  });

  test('no warnings: everything is honoured or knowingly ignored', () => {
    assert.deepEqual(dc.warnings, []);
  });

  test('maps to spoon keys', () => {
    assert.deepEqual(dc.layer.values, {
      image: 'mcr.microsoft.com/devcontainers/javascript-node:1-20-bookworm',
      forwards: [3000, 9229],
      env: { NODE_ENV: 'development' },
      user: 'node',
    });
    const o = options(dc);
    assert.equal(o.image, 'mcr.microsoft.com/devcontainers/javascript-node:1-20-bookworm');
    assert.equal(o.user, 'node');
    assert.deepEqual(o.env, { NODE_ENV: 'development' });
    assert.deepEqual(
      o.forwards.map((f) => [f.localPort, f.remotePort]),
      [
        [3000, 3000],
        [9229, 9229],
      ],
    );
  });

  test('where(key) names the file, line, column and property', () => {
    assert.equal(dc.layer.where('image'), `${file}:7:3: image`);
    assert.equal(dc.layer.where('forwards'), `${file}:9:3: forwardPorts`);
    assert.equal(dc.layer.where('env'), `${file}:11:3: containerEnv`);
    assert.equal(dc.layer.where('user'), `${file}:13:3: remoteUser`);
    assert.equal(resolveOptions([dc.layer], HOME).sources.user.where, `${file}:13:3: remoteUser`);
    assert.equal(resolveOptions([dc.layer], HOME).sources.user.kind, 'devcontainer');
  });

  test('lifecycle and the rest', () => {
    assert.deepEqual(dc.lifecycle, { initialize: [], onCreate: [], updateContent: [], postCreate: [[{ name: undefined, command: 'npm ci' }]], postStart: [], postAttach: [] });
    assert.equal(dc.waitFor, 'updateContentCommand');
    assert.deepEqual(dc.hostRequirements, {});
    assert.equal(dc.build, undefined);
    assert.deepEqual(dc.remoteEnv, {});
    assert.equal(dc.containerUser, undefined);
    assert.deepEqual(dc.capAdd, []);
    assert.deepEqual(dc.securityOpt, []);
    assert.equal(dc.init, false);
  });

  test('the default workspace mount', () => {
    const base = root.split('/').pop()!;
    assert.deepEqual(dc.workspaceMount, { source: root, target: `/workspaces/${base}` });
    assert.equal(dc.containerWorkspaceFolder, `/workspaces/${base}`);
  });

  test('labels', () => {
    assert.deepEqual(dc.labels, { 'devcontainer.local_folder': root, 'devcontainer.config_file': file });
  });

  test('a byte order mark is fine', () => {
    const { dc } = load('\uFEFF{ "image": "x" }');
    assert.equal(dc.layer.values.image, 'x');
  });
});

describe('loadDevcontainer: .devcontainer.json at the project root', () => {
  test('the project folder is the file\'s folder', () => {
    const root = tree({ '.devcontainer.json': '{"image": "x", "mounts": ["source=data,target=/data,type=bind"]}', 'data/': '' });
    const dc = loadDevcontainer(join(root, '.devcontainer.json'), { env: {} });
    assert.equal(dc.workspaceFolder, root);
    assert.equal(dc.layer.baseDir, root);
    assert.deepEqual(options(dc).volumes, [{ type: 'bind', source: join(root, 'data'), target: '/data', readOnly: false }]);
  });

  test('a relative path is made absolute', () => {
    const root = tree({ '.devcontainer.json': '{"image": "x"}' });
    const cwd = process.cwd();
    process.chdir(root);
    try {
      assert.equal(loadDevcontainer('.devcontainer.json', { env: {} }).file, join(root, '.devcontainer.json'));
    } finally {
      process.chdir(cwd);
    }
  });

  test('a missing file is a usage error', () => {
    const root = tree({});
    const message = usageError(() => loadDevcontainer(join(root, 'nope.json'), { env: {} }));
    assert.match(message, new RegExp(`^${join(root, 'nope.json')}: cannot read devcontainer.json: `));
  });
});

describe('image and build', () => {
  test('build: paths relative to the json file\'s folder, context defaults to it', () => {
    const { root, dc } = load(json({ build: { dockerfile: 'Dockerfile', args: { NODE: '20', TAG: '${localEnv:TAG:latest}' }, target: 'dev' } }), { '.devcontainer/Dockerfile': 'FROM debian' });
    assert.deepEqual(dc.build, { dockerfile: join(root, '.devcontainer', 'Dockerfile'), context: join(root, '.devcontainer'), args: { NODE: '20', TAG: 'latest' }, target: 'dev' });
    assert.equal(dc.layer.values.image, undefined);
    assert.equal(options(dc).image, undefined);
  });

  test('build: context ".." and a Dockerfile elsewhere', () => {
    const { root, dc } = load(json({ build: { dockerfile: '../docker/dev.Dockerfile', context: '..' } }), { 'docker/dev.Dockerfile': 'FROM debian' });
    assert.deepEqual(dc.build, { dockerfile: join(root, 'docker', 'dev.Dockerfile'), context: root, args: {}, target: undefined });
  });

  test('the legacy top-level dockerFile and context', () => {
    const { root, dc } = load(json({ dockerFile: 'Dockerfile', context: '..' }), { '.devcontainer/Dockerfile': 'FROM debian' });
    assert.deepEqual(dc.build, { dockerfile: join(root, '.devcontainer', 'Dockerfile'), context: root, args: {}, target: undefined });
  });

  test('unknown build properties are warned about', () => {
    const { dc } = load(json({ build: { dockerfile: 'Dockerfile', cacheFrom: 'x', options: ['--pull'] } }), { '.devcontainer/Dockerfile': 'FROM debian' });
    assert.deepEqual(dc.warnings, ['build.cacheFrom: ignored by spoon', 'build.options: ignored by spoon']);
  });

  test('image and build together is an error naming both', () => {
    const { message, file } = loadError(json({ image: 'x', build: { dockerfile: 'Dockerfile' } }), { '.devcontainer/Dockerfile': 'FROM debian' });
    assert.equal(message, `${file}:3:3: build: both image and build.dockerfile are set; use one of them`);
  });

  test('neither image nor build is an error', () => {
    const { message, file } = loadError(json({ name: 'x' }));
    assert.equal(message, `${file}: devcontainer.json has neither image nor build.dockerfile`);
  });

  test('build without a dockerfile counts as no build', () => {
    const { message, file } = loadError(json({ build: { args: { A: '1' } } }));
    assert.equal(message, `${file}: devcontainer.json has neither image nor build.dockerfile`);
  });

  test('an empty image is no image', () => {
    const { message, file } = loadError(json({ image: '' }));
    assert.equal(message, `${file}: devcontainer.json has neither image nor build.dockerfile`);
  });

  test('customizations.spoon.builddir is enough', () => {
    const { root, dc } = load(json({ customizations: { spoon: { builddir: '../docker' } } }), { 'docker/Dockerfile': 'FROM x' });
    assert.equal(options(dc).builddir, join(root, 'docker'));
    assert.equal(dc.build, undefined);
  });

  test('customizations.spoon.image is enough', () => {
    const { dc } = load(json({ customizations: { spoon: { image: 'spoon/dev' } } }));
    assert.equal(options(dc).image, 'spoon/dev');
  });

  test('a missing Dockerfile is an error at build.dockerfile', () => {
    const { message, file, root } = loadError(json({ build: { dockerfile: 'Nope' } }));
    assert.equal(message, `${file}:2:26: build.dockerfile: ${join(root, '.devcontainer', 'Nope')} does not exist`);
  });

  test('a missing context is an error at build.context', () => {
    const { message, file, root } = loadError(json({ build: { dockerfile: 'Dockerfile', context: 'gone' } }), { '.devcontainer/Dockerfile': 'FROM x' });
    assert.equal(message, `${file}:2:49: build.context: ${join(root, '.devcontainer', 'gone')} is not a folder`);
  });
});

describe('ports', () => {
  test('appPort: a number publishes the same host port', () => {
    const { dc } = load(json({ image: 'x', appPort: 3000 }));
    assert.deepEqual(options(dc).ports, [{ container: 3000, host: 3000, protocol: 'tcp' }]);
  });

  test('appPort: a string is docker -p syntax', () => {
    const { dc } = load(json({ image: 'x', appPort: '8080:80' }));
    assert.deepEqual(options(dc).ports, [{ container: 80, host: 8080, protocol: 'tcp' }]);
  });

  test('appPort: an array; 127.0.0.1: is the default listen address', () => {
    const { dc } = load(json({ image: 'x', appPort: [3000, '5353:53/udp', '127.0.0.1:9000:90'] }));
    assert.deepEqual(options(dc).ports, [
      { container: 3000, host: 3000, protocol: 'tcp' },
      { container: 53, host: 5353, protocol: 'udp' },
      { container: 90, host: 9000, protocol: 'tcp' },
    ]);
  });

  test('appPort: a bad element is an error at that element', () => {
    const { message, file } = loadError(json({ image: 'x', appPort: [3000, 'abc'] }));
    assert.match(message, new RegExp(`^${file}:3:20: appPort\\[1\\]: invalid value 'abc': 'abc' is not a port number$`));
  });

  test('appPort: a wrong type', () => {
    const { message, file } = loadError(json({ image: 'x', appPort: true }));
    assert.equal(message, `${file}:3:14: appPort: expected a port number or a string, got true`);
  });

  test('forwardPorts: numbers and localhost ports become forwards; other hosts are skipped with a warning', () => {
    const { dc } = load(json({ image: 'x', forwardPorts: [3000, 'localhost:8080', '127.0.0.1:9000', 'db:5432'] }));
    assert.deepEqual(
      options(dc).forwards,
      [3000, 8080, 9000].map((p) => ({ localPort: p, remotePort: p, bindAddress: '127.0.0.1' })),
    );
    assert.deepEqual(dc.warnings, ["forwardPorts[3]: 'db:5432' is not a port in the container; skipped (spoon forwards only the container's own ports)"]);
  });

  test('forwardPorts: an out-of-range port is an error at that element', () => {
    const { message, file } = loadError(json({ image: 'x', forwardPorts: [3000, 70000] }));
    assert.equal(message, `${file}:3:25: forwardPorts[1]: invalid value '70000': port 70000 is outside 1-65535`);
  });

  test('forwardPorts must be an array', () => {
    const { message, file } = loadError(json({ image: 'x', forwardPorts: 3000 }));
    assert.equal(message, `${file}:3:19: forwardPorts: expected an array, got 3000`);
  });
});

describe('mounts', () => {
  test('string and object forms, bind and volume, readonly, relative bind sources', () => {
    const { root, dc } = load(
      json({
        image: 'x',
        mounts: [
          'source=${localWorkspaceFolder}/data,target=/data,type=bind,consistency=cached',
          'type=bind,src=../cfg,dst=/cfg,readonly',
          'source=cache,target=/cache,type=volume',
          'target=/scratch,type=volume',
          { source: '../home/.ssh', target: '/home/node/.ssh', type: 'bind' },
          { source: 'node_modules', target: '/w/node_modules', type: 'volume' },
          'source="/tmp",target=/hosttmp,type=bind,ro=true',
        ],
      }),
      { 'data/': '', 'cfg/': '', 'home/.ssh/': '' },
    );
    assert.deepEqual(dc.layer.values.volumes, [
      `${root}/data:/data`,
      `${root}/cfg:/cfg:ro`,
      'cache:/cache',
      '/scratch',
      `${root}/home/.ssh:/home/node/.ssh`,
      'node_modules:/w/node_modules',
      '/tmp:/hosttmp:ro',
    ]);
    assert.deepEqual(dc.warnings, []);
  });

  test('a mount type other than bind or volume is an error naming the mount', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: ['type=tmpfs,target=/tmp'] }));
    assert.equal(message, `${file}:3:14: mounts[0]: mount type 'tmpfs' is not supported by spoon (use bind or volume): type=tmpfs,target=/tmp`);
  });

  test('object form: type tmpfs', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: [{ type: 'tmpfs', target: '/t' }] }));
    assert.equal(message, `${file}:3:14: mounts[0]: mount type 'tmpfs' is not supported by spoon (use bind or volume): type=tmpfs,target=/t`);
  });

  test('a bind source that does not exist is an error at the mount', () => {
    const { message, file, root } = loadError(json({ image: 'x', mounts: ['source=${localWorkspaceFolder}/gone,target=/g,type=bind'] }));
    assert.equal(message, `${file}:3:14: mounts[0]: invalid value '${root}/gone:/g': the host path ${root}/gone does not exist`);
  });

  test('a mount without target', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: ['source=v,type=volume'] }));
    assert.equal(message, `${file}:3:14: mounts[0]: no target in mount 'source=v,type=volume'`);
  });

  test('a volume name that is a path', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: ['source=a/b,target=/b,type=volume'] }), { '.devcontainer/a/b/': '' });
    assert.equal(message, `${file}:3:14: mounts[0]: 'a/b' is not a valid volume name: type=volume,source=a/b,target=/b`);
  });

  test('unknown mount options are warned about', () => {
    const { dc } = load(json({ image: 'x', mounts: ['source=v,target=/v,type=volume,volume-nocopy'] }));
    assert.deepEqual(dc.warnings, ["mounts[0]: mount option 'volume-nocopy' ignored by spoon"]);
  });

  test('an unknown property of a mount object is an error', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: [{ source: 'v', target: '/v', kind: 'volume' }] }));
    assert.equal(message, `${file}:3:42: mounts[0].kind: unknown mount property 'kind' (expected type, source, target, readonly)`);
  });

  test('a mount that is neither string nor object', () => {
    const { message, file } = loadError(json({ image: 'x', mounts: [5] }));
    assert.equal(message, `${file}:3:14: mounts[0]: expected a mount string or object, got 5`);
  });
});

describe('mounts resolve into schema volumes', () => {
  test('bind, volume, readonly', () => {
    const root = tree({ '.git/': '', 'data/': '', 'keys/.ssh/': '' });
    writeFileSync(
      join(root, '.devcontainer.json'),
      json({ image: 'x', mounts: ['source=${localWorkspaceFolder}/data,target=/data,type=bind', 'source=cache,target=/cache,type=volume,readonly', { source: '${localEnv:KEYS}/.ssh', target: '/home/node/.ssh', type: 'bind' }] }),
    );
    const dc = loadDevcontainer(join(root, '.devcontainer.json'), { env: { KEYS: join(root, 'keys') } });
    assert.deepEqual(options(dc).volumes, [
      { type: 'bind', source: join(root, 'data'), target: '/data', readOnly: false },
      { type: 'volume', source: 'cache', target: '/cache', readOnly: true },
      { type: 'bind', source: join(root, 'keys', '.ssh'), target: '/home/node/.ssh', readOnly: false },
    ]);
  });
});

describe('environment and users', () => {
  test('containerEnv → env; remoteEnv kept apart, null unsets', () => {
    const { dc } = load(json({ image: 'x', containerEnv: { A: '1', B: '${localEnv:B_HOST}' }, remoteEnv: { C: 'c', D: null } }), {}, { B_HOST: 'from host' });
    assert.deepEqual(options(dc).env, { A: '1', B: 'from host' });
    assert.deepEqual(dc.remoteEnv, { C: 'c' });
  });

  test('containerEnv with a non-string value', () => {
    const { message, file } = loadError(json({ image: 'x', containerEnv: { A: 1 } }));
    assert.equal(message, `${file}:3:24: containerEnv.A: expected a string, got 1`);
  });

  test('containerEnv that is not an object', () => {
    const { message, file } = loadError(json({ image: 'x', containerEnv: ['A=1'] }));
    assert.equal(message, `${file}:3:19: containerEnv: expected an object, got ["A=1"]`);
  });

  test('remoteUser → user; containerUser is kept apart', () => {
    const { dc } = load(json({ image: 'x', remoteUser: 'vscode', containerUser: 'app' }));
    assert.equal(options(dc).user, 'vscode');
    assert.equal(dc.containerUser, 'app');
  });

  test('remoteUser root is not used, with a warning', () => {
    const { dc } = load(json({ image: 'x', remoteUser: 'root' }));
    assert.equal(dc.layer.values.user, undefined);
    assert.equal(options(dc).user, 'dev');
    assert.deepEqual(dc.warnings, ['remoteUser root: spoon logs in as a non-root user; set customizations.spoon.user']);
  });

  test('a remoteUser that is no unix user name', () => {
    const { message, file } = loadError(json({ image: 'x', remoteUser: 'Bad User' }));
    assert.equal(message, `${file}:3:17: remoteUser: invalid value 'Bad User': not a unix user name`);
  });
});

describe('privileges', () => {
  test('privileged, capAdd, securityOpt, init', () => {
    const { dc } = load(json({ image: 'x', privileged: true, capAdd: ['SYS_PTRACE'], securityOpt: ['seccomp=unconfined'], init: true }));
    assert.equal(options(dc).privileged, true);
    assert.deepEqual(dc.capAdd, ['SYS_PTRACE']);
    assert.deepEqual(dc.securityOpt, ['seccomp=unconfined']);
    assert.equal(dc.init, true);
  });

  test('privileged must be a boolean', () => {
    const { message, file } = loadError(json({ image: 'x', privileged: 'yes' }));
    assert.equal(message, `${file}:3:17: privileged: expected true or false, got "yes"`);
  });

  test('capAdd must be strings', () => {
    const { message, file } = loadError(json({ image: 'x', capAdd: ['A', 2] }));
    assert.equal(message, `${file}:3:18: capAdd[1]: expected a string, got 2`);
  });
});

describe('runArgs', () => {
  test('every supported flag, in --flag value and --flag=value forms', () => {
    const { root, dc } = load(
      json({
        image: 'x',
        runArgs: [
          '--cpus',
          '1.5',
          '--memory=2g',
          '--dns',
          '1.1.1.1',
          '--dns=8.8.8.8',
          '-e',
          'A=1',
          '--env=B=2',
          '--env',
          'FROM_HOST',
          '-e',
          'UNSET_ON_HOST',
          '-v',
          '${localWorkspaceFolder}/data:/data:ro',
          '--volume=named:/named',
          '--privileged',
          '--cap-add',
          'SYS_PTRACE',
          '--cap-add=NET_ADMIN',
          '--security-opt',
          'seccomp=unconfined',
          '--security-opt=apparmor=unconfined',
          '--init',
        ],
      }),
      { 'data/': '' },
      { FROM_HOST: 'h' },
    );
    const o = options(dc);
    assert.equal(o.cpus, 1.5);
    assert.equal(o.memory, 2 * 1024 ** 3);
    assert.deepEqual(o.dns, ['1.1.1.1', '8.8.8.8']);
    assert.deepEqual(o.env, { A: '1', B: '2', FROM_HOST: 'h' });
    assert.deepEqual(o.volumes, [
      { type: 'bind', source: join(root, 'data'), target: '/data', readOnly: true },
      { type: 'volume', source: 'named', target: '/named', readOnly: false },
    ]);
    assert.equal(o.privileged, true);
    assert.deepEqual(dc.capAdd, ['SYS_PTRACE', 'NET_ADMIN']);
    assert.deepEqual(dc.securityOpt, ['seccomp=unconfined', 'apparmor=unconfined']);
    assert.equal(dc.init, true);
  });

  test('-m and --memory with a separate value; short flags with an attached value', () => {
    assert.equal(options(load(json({ image: 'x', runArgs: ['-m', '512m'] })).dc).memory, 512 * 1024 ** 2);
    assert.equal(options(load(json({ image: 'x', runArgs: ['--memory', '1g'] })).dc).memory, 1024 ** 3);
    assert.equal(options(load(json({ image: 'x', runArgs: ['-m1g'] })).dc).memory, 1024 ** 3);
    assert.deepEqual(options(load(json({ image: 'x', runArgs: ['-eK=V'] })).dc).env, { K: 'V' });
  });

  test('runArgs add to the mapped properties, and win on conflicts', () => {
    const { dc } = load(json({ image: 'x', containerEnv: { A: 'env', B: 'env' }, capAdd: ['SYS_PTRACE'], privileged: false, init: true, runArgs: ['-e', 'B=run', '--privileged', '--init=false', '--cap-add=SYS_PTRACE'] }));
    assert.deepEqual(options(dc).env, { A: 'env', B: 'run' });
    assert.equal(options(dc).privileged, true);
    assert.equal(dc.init, false);
    assert.deepEqual(dc.capAdd, ['SYS_PTRACE']);
  });

  test('where(key) for a key fed by several properties', () => {
    const { file, dc } = load(json({ image: 'x', containerEnv: { A: '1' }, runArgs: ['-e', 'B=2'] }));
    assert.equal(dc.layer.where('env'), `${file}:3:3: containerEnv (and runArgs)`);
    const { file: f2, dc: dc2 } = load(json({ image: 'x', runArgs: ['--cpus', '2'] }));
    assert.equal(dc2.layer.where('cpus'), `${f2}:3:24: runArgs`);
  });

  test('an unsupported flag is an error naming it', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: ['--cpus=1', '--network=host'] }));
    assert.equal(message, `${file}:3:26: runArgs: '--network' is not supported by spoon (supported: --cpus --memory --dns -e -v --privileged --cap-add --security-opt --init)`);
  });

  test('an unsupported short flag and a stray word', () => {
    assert.match(loadError(json({ image: 'x', runArgs: ['-p', '80'] })).message, /:3:15: runArgs: '-p' is not supported by spoon \(supported: /);
    assert.match(loadError(json({ image: 'x', runArgs: ['host'] })).message, /:3:15: runArgs: 'host' is not supported by spoon/);
  });

  test('a flag without its value', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: ['--cpus'] }));
    assert.equal(message, `${file}:3:15: runArgs[0]: '--cpus' needs a value`);
  });

  test('a bad value is an error at the value', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: ['--memory', '4x'] }));
    assert.equal(message, `${file}:3:26: runArgs[1]: invalid memory '4x': use a size like 512m or 2g`);
  });

  test('a bad boolean value', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: ['--privileged=maybe'] }));
    assert.equal(message, `${file}:3:15: runArgs[0]: invalid value 'maybe' for --privileged: expected true or false`);
  });

  test('runArgs must be an array', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: 'x' }));
    assert.equal(message, `${file}:3:14: runArgs: expected an array, got "x"`);
  });

  test('runArgs elements must be strings', () => {
    const { message, file } = loadError(json({ image: 'x', runArgs: ['--cpus', 2] }));
    assert.equal(message, `${file}:3:24: runArgs[1]: expected a string, got 2`);
  });
});

describe('lifecycle commands', () => {
  test('string form: one step, run with a shell', () => {
    const { dc } = load(json({ image: 'x', onCreateCommand: 'make setup' }));
    assert.deepEqual(dc.lifecycle.onCreate, [[{ name: undefined, command: 'make setup' }]]);
  });

  test('array form: one argv step', () => {
    const { dc } = load(json({ image: 'x', postCreateCommand: ['npm', 'ci', '--no-audit'] }));
    assert.deepEqual(dc.lifecycle.postCreate, [[{ name: undefined, command: ['npm', 'ci', '--no-audit'] }]]);
  });

  test('object form: one group of named steps run in parallel', () => {
    const { dc } = load(json({ image: 'x', postStartCommand: { server: 'npm start', watch: ['npm', 'run', 'watch'] } }));
    assert.deepEqual(dc.lifecycle.postStart, [
      [
        { name: 'server', command: 'npm start' },
        { name: 'watch', command: ['npm', 'run', 'watch'] },
      ],
    ]);
  });

  test('empty forms are no command', () => {
    const { dc } = load(json({ image: 'x', onCreateCommand: '', postCreateCommand: [], postStartCommand: {}, initializeCommand: null }));
    assert.deepEqual(dc.lifecycle, { initialize: [], onCreate: [], updateContent: [], postCreate: [], postStart: [], postAttach: [] });
  });

  test('variables are substituted in commands', () => {
    const { dc } = load(json({ image: 'x', postCreateCommand: 'cd ${containerWorkspaceFolder} && ./setup ${localEnv:MODE:dev}' }));
    assert.deepEqual(dc.lifecycle.postCreate, [[{ name: undefined, command: `cd ${dc.containerWorkspaceFolder} && ./setup dev` }]]);
  });

  test('initializeCommand, updateContentCommand and postAttachCommand in their three forms, without a warning', () => {
    const { dc } = load(json({ image: 'x', initializeCommand: ['./gen-env', '${localWorkspaceFolderBasename}'], updateContentCommand: 'npm i', postAttachCommand: { a: 'echo hi', b: ['date'] } }));
    assert.deepEqual(dc.lifecycle.initialize, [[{ name: undefined, command: ['./gen-env', dc.workspaceFolder.split('/').pop()] }]]);
    assert.deepEqual(dc.lifecycle.updateContent, [[{ name: undefined, command: 'npm i' }]]);
    assert.deepEqual(dc.lifecycle.postAttach, [
      [
        { name: 'a', command: 'echo hi' },
        { name: 'b', command: ['date'] },
      ],
    ]);
    assert.deepEqual(dc.warnings, []);
  });

  test('a wrong type in initializeCommand', () => {
    const { message, file } = loadError(json({ image: 'x', initializeCommand: { a: 1 } }));
    assert.equal(message, `${file}:3:29: initializeCommand.a: expected a string or an array of strings, got 1`);
  });

  test('a wrong type', () => {
    const { message, file } = loadError(json({ image: 'x', postCreateCommand: 5 }));
    assert.equal(message, `${file}:3:24: postCreateCommand: expected a string, an array of strings or an object, got 5`);
  });

  test('a wrong type in the object form', () => {
    const { message, file } = loadError(json({ image: 'x', postCreateCommand: { a: true } }));
    assert.equal(message, `${file}:3:29: postCreateCommand.a: expected a string or an array of strings, got true`);
  });
});

describe('waitFor, hostRequirements, shutdownAction', () => {
  test('waitFor names a lifecycle command', () => {
    assert.equal(load(json({ image: 'x', waitFor: 'postCreateCommand' })).dc.waitFor, 'postCreateCommand');
    assert.equal(load(json({ image: 'x', waitFor: 'initializeCommand' })).dc.waitFor, 'initializeCommand');
  });

  test('waitFor: postAttachCommand or a typo is an error at it', () => {
    const { message, file } = loadError(json({ image: 'x', waitFor: 'postAttachCommand' }));
    assert.match(message, new RegExp(`^${file.replace(/[.]/g, '\\.')}:3:14: waitFor: 'postAttachCommand' is not a lifecycle command spoon can wait for \\(expected one of initializeCommand, `));
  });

  test('hostRequirements: cpus, memory in powers of 1024 as the devcontainers CLI reads them, storage checked for form only', () => {
    const { dc, file } = load(json({ image: 'x', hostRequirements: { cpus: 4, memory: '8gb', storage: '32gb', gpu: 'optional' } }));
    assert.deepEqual(dc.hostRequirements, { cpus: { count: 4, where: `${file}:3:24` }, memory: { bytes: 8 * 2 ** 30, text: '8gb', where: `${file}:3:33` } });
    assert.deepEqual(dc.warnings, []);
  });

  test('hostRequirements sizes', () => {
    assert.equal(parseRequirementSize('512mb'), 512 * 2 ** 20);
    assert.equal(parseRequirementSize('1TB'), 2 ** 40);
    assert.equal(parseRequirementSize('4096'), 4096);
    assert.equal(parseRequirementSize('4k'), undefined);
    assert.equal(parseRequirementSize('1.5gb'), undefined);
  });

  test('hostRequirements: bad values are errors at them', () => {
    let r = loadError(json({ image: 'x', hostRequirements: { cpus: 0 } }));
    assert.equal(r.message, `${r.file}:3:31: hostRequirements.cpus: expected a whole number of CPUs (at least 1), got 0`);
    r = loadError(json({ image: 'x', hostRequirements: { memory: '8 gigs' } }));
    assert.equal(r.message, `${r.file}:3:33: hostRequirements.memory: invalid size '8 gigs': expected a number with tb, gb, mb or kb, such as "8gb"`);
    r = loadError(json({ image: 'x', hostRequirements: 4 }));
    assert.equal(r.message, `${r.file}:3:23: hostRequirements: expected an object, got 4`);
  });

  test('a required GPU is a warning: spoon gives containers none', () => {
    assert.deepEqual(load(json({ image: 'x', hostRequirements: { gpu: true } })).dc.warnings, ['hostRequirements.gpu: spoon gives containers no GPUs; the env is made without one']);
  });

  test('shutdownAction: none is quiet, stopContainer says spoon leaves the env running, stopCompose is an error', () => {
    assert.deepEqual(load(json({ image: 'x', shutdownAction: 'none' })).dc.warnings, []);
    assert.match(load(json({ image: 'x', shutdownAction: 'stopContainer' })).dc.warnings[0] ?? '', /^shutdownAction: spoon leaves the env running when you detach/);
    const r = loadError(json({ image: 'x', shutdownAction: 'stopCompose' }));
    assert.match(r.message, /:3:21: shutdownAction: 'stopCompose' is for Docker Compose projects/);
  });
});

describe('unmetRequirements', () => {
  const where = '/p/.devcontainer/devcontainer.json:3:5';
  test('names each unmet requirement with both numbers', () => {
    const unmet = unmetRequirements({ cpus: { count: 4, where }, memory: { bytes: 32 * 2 ** 30, text: '32gb', where } }, { cpus: 2, memory: 25276166144 });
    assert.deepEqual(unmet, [`${where}: hostRequirements.cpus asks for 4 CPUs; the engine has 2`, `${where}: hostRequirements.memory asks for 32gb (32.0 GiB); the engine has 23.5 GiB`]);
  });

  test('memory as the machine is sold: MemTotal a little under it is enough', () => {
    assert.deepEqual(unmetRequirements({ cpus: { count: 2, where }, memory: { bytes: 24 * 2 ** 30, text: '24gb', where } }, { cpus: 2, memory: 25276166144 }), []);
    assert.equal(unmetRequirements({ memory: { bytes: 25 * 2 ** 30, text: '25gb', where } }, { cpus: 2, memory: 25276166144 }).length, 1);
  });
});

describe('customizations', () => {
  test('customizations.spoon keys win over the mapped properties', () => {
    const { file, dc } = load(json({ image: 'x', remoteUser: 'vscode', appPort: [3000], customizations: { spoon: { user: 'dev2', ports: ['8080:80'], session: 'work', persist: ['~', '/data'] } } }));
    const o = options(dc);
    assert.equal(o.user, 'dev2');
    assert.deepEqual(o.ports, [{ container: 80, host: 8080, protocol: 'tcp' }]);
    assert.equal(o.session, 'work');
    assert.deepEqual(o.persist, ['~', '/data']);
    assert.equal(dc.layer.where('user'), `${file}:5:31: customizations.spoon.user`);
  });

  test('an unknown spoon key is an error at it', () => {
    const { message, file } = loadError(json({ image: 'x', customizations: { spoon: { foo: 1 } } }));
    assert.equal(message, `${file}:3:31: customizations.spoon.foo: unknown key`);
  });

  test('a bad spoon value is an error at its key', () => {
    const { message, file } = loadError(json({ image: 'x', customizations: { spoon: { memory: 'lots' } } }));
    assert.equal(message, `${file}:3:31: customizations.spoon.memory: invalid memory 'lots': use a size like 512m or 2g`);
  });

  test('customizations.spoon must be an object', () => {
    const { message, file } = loadError(json({ image: 'x', customizations: { spoon: ['user'] } }));
    assert.equal(message, `${file}:3:30: customizations.spoon: expected an object, got ["user"]`);
  });

  test('other tools\' customizations are ignored, variables and all', () => {
    const { dc } = load(json({ image: 'x', customizations: { vscode: { settings: { a: '${workspaceFolder}' } }, codespaces: { x: 1 } } }));
    assert.deepEqual(dc.warnings, []);
    assert.deepEqual(dc.layer.values, { image: 'x' });
  });
});

describe('other properties', () => {
  test('known properties spoon has no use for are ignored quietly', () => {
    const { dc } = load(
      json({
        image: 'x',
        name: 'n',
        hostRequirements: { cpus: 2 },
        portsAttributes: {},
        otherPortsAttributes: {},
        shutdownAction: 'none',
        overrideCommand: true,
        updateRemoteUserUID: true,
        userEnvProbe: 'loginShell',
        waitFor: 'postCreateCommand',
        initializeCommand: 'true',
        updateContentCommand: 'true',
        postAttachCommand: 'true',
        features: {},
      }),
    );
    assert.deepEqual(dc.warnings, []);
  });

  test('an unknown property is warned about', () => {
    const { dc } = load(json({ image: 'x', imagee: 'y', extra: 1 }));
    assert.deepEqual(dc.warnings, ["unknown property 'imagee' ignored", "unknown property 'extra' ignored"]);
  });

  test('dockerComposeFile is an error', () => {
    const { message, file } = loadError(json({ name: 'x', dockerComposeFile: 'docker-compose.yml', service: 'app' }));
    assert.equal(message, `${file}:3:3: dockerComposeFile: Docker Compose projects are not supported by spoon`);
  });

  test('features: registry references and local folders are read, with their options', () => {
    const feature = { 'devcontainer-feature.json': '{ "id": "tool", "options": { "v": { "type": "string", "default": "1" } } }', 'install.sh': '#!/bin/sh\n' };
    const extra = Object.fromEntries(Object.entries(feature).map(([k, v]) => [join('.devcontainer', 'tool', k), v]));
    const { dc, root } = load(json({ image: 'x', features: { 'ghcr.io/devcontainers/features/node:1': {}, 'ghcr.io/devcontainers/features/go': '1.22', './tool': { v: '2', flag: true } }, overrideFeatureInstallOrder: ['./tool'] }), extra);
    assert.deepEqual(
      dc.features.map((f) => ({ id: f.id, source: f.source, options: f.options })),
      [
        { id: 'ghcr.io/devcontainers/features/node:1', source: { kind: 'oci', registry: 'ghcr.io', repository: 'devcontainers/features/node', reference: '1', resource: 'ghcr.io/devcontainers/features/node' }, options: {} },
        { id: 'ghcr.io/devcontainers/features/go', source: { kind: 'oci', registry: 'ghcr.io', repository: 'devcontainers/features/go', reference: 'latest', resource: 'ghcr.io/devcontainers/features/go' }, options: { version: '1.22' } },
        { id: './tool', source: { kind: 'local', dir: join(root, '.devcontainer', 'tool') }, options: { v: '2', flag: true } },
      ],
    );
    assert.deepEqual(dc.featureOrder, ['./tool']);
    assert.deepEqual(dc.warnings, []);
  });

  test('features: a bare legacy id, a tarball URL and a missing install.sh are errors naming the entry', () => {
    let { message, file } = loadError(json({ image: 'x', features: { node: {} } }));
    assert.match(message, new RegExp(`^${file}:3:16: features\\["node"\\]: not a local folder`));
    ({ message, file } = loadError(json({ image: 'x', features: { 'https://example.com/f.tgz': {} } })));
    assert.match(message, /features\["https:\/\/example\.com\/f\.tgz"\]: features from a tarball URL are not supported/);
    const r = loadError(json({ image: 'x', features: { './broken': {} } }), { [join('.devcontainer', 'broken', 'devcontainer-feature.json')]: '{ "id": "broken" }' });
    assert.equal(r.message, `${r.file}:3:16: features["./broken"]: ${join(r.root, '.devcontainer', 'broken', 'install.sh')} does not exist (a feature needs devcontainer-feature.json and install.sh)`);
  });

  test('a wrong type for image', () => {
    const { message, file } = loadError(json({ image: 5 }));
    assert.equal(message, `${file}:2:12: image: expected a string, got 5`);
  });
});

describe('syntax', () => {
  test('a JSONC syntax error names line and column', () => {
    const { message, file } = loadError('{\n  "image": "x"\n  "runArgs": []\n}\n');
    assert.equal(message, `${file}:3:3: invalid JSON: comma expected`);
  });

  test('an unterminated object', () => {
    const { message, file } = loadError('{\n  "image": "x",\n');
    assert.equal(message, `${file}:3:1: invalid JSON: property name expected`);
  });

  test('an empty file', () => {
    const { message, file } = loadError('');
    assert.equal(message, `${file}:1:1: invalid JSON: value expected`);
  });

  test('a top level that is not an object', () => {
    const { message, file } = loadError('// nothing\n["image"]\n');
    assert.equal(message, `${file}:2:1: expected a JSON object, got ["image"]`);
  });

  test('comments and trailing commas everywhere', () => {
    const { dc } = load('{ /* a */ "image": "x", // b\n "runArgs": ["--init",], "capAdd": ["A",/*c*/], }');
    assert.equal(dc.init, true);
    assert.deepEqual(dc.capAdd, ['A']);
  });
});

describe('variables', () => {
  test('localEnv, with and without a default', () => {
    const { dc } = load(json({ image: '${localEnv:REG}/app:${localEnv:TAG:latest}', containerEnv: { SET: '${localEnv:SET:unused}', UNSET: '${localEnv:NOPE}', URL: '${localEnv:NOPE:http://db:5432}', EMPTY: '${localEnv:EMPTY:default}' } }), {}, { REG: 'ghcr.io/me', SET: 'yes', EMPTY: '' });
    assert.equal(dc.layer.values.image, 'ghcr.io/me/app:latest');
    assert.deepEqual(dc.layer.values.env, { SET: 'yes', UNSET: '', URL: 'http://db:5432', EMPTY: '' });
  });

  test('${env:X} is the same as ${localEnv:X}', () => {
    const { dc } = load(json({ image: '${env:IMG}' }), {}, { IMG: 'img' });
    assert.equal(dc.layer.values.image, 'img');
  });

  test('workspace variables', () => {
    const { root, dc } = load(json({ image: 'x', containerEnv: { L: '${localWorkspaceFolder}', LB: '${localWorkspaceFolderBasename}', C: '${containerWorkspaceFolder}', CB: '${containerWorkspaceFolderBasename}' } }));
    const base = root.split('/').pop()!;
    assert.deepEqual(dc.layer.values.env, { L: root, LB: base, C: `/workspaces/${base}`, CB: base });
  });

  test('workspaceFolder sets ${containerWorkspaceFolder}', () => {
    const { root, dc } = load(json({ image: 'x', workspaceFolder: '/src/${localWorkspaceFolderBasename}', containerEnv: { C: '${containerWorkspaceFolder}', CB: '${containerWorkspaceFolderBasename}' } }));
    const base = root.split('/').pop()!;
    assert.equal(dc.containerWorkspaceFolder, `/src/${base}`);
    assert.deepEqual(dc.layer.values.env, { C: `/src/${base}`, CB: base });
    // Without workspaceMount, the project is still mounted at the default place.
    assert.deepEqual(dc.workspaceMount, { source: root, target: `/workspaces/${base}` });
  });

  test('${devcontainerId} is the devcontainers CLI\'s id', () => {
    const { dc } = load(json({ image: 'x', containerEnv: { ID: '${devcontainerId}' } }));
    const id = (dc.layer.values.env as Record<string, string>).ID!;
    assert.match(id, /^[0-9a-v]{52}$/);
    assert.equal((load(json({ image: 'y', containerEnv: { ID: '${devcontainerId}' } })).dc.layer.values.env as Record<string, string>).ID === id, false);
  });

  test('${containerEnv:X} in remoteEnv is kept for sessions to read in the container; elsewhere left as is, with a warning', () => {
    const { dc } = load(json({ image: 'x', remoteEnv: { PATH: '${containerEnv:PATH}:/opt/bin' }, containerEnv: { B: '${containerEnv:A}' } }));
    assert.deepEqual(dc.remoteEnv, { PATH: '${containerEnv:PATH}:/opt/bin' });
    assert.deepEqual(dc.warnings, ['containerEnv.B: ${containerEnv:A} cannot be known on the host; left as is']);
  });

  test('userEnvProbe: one of the four values; unset means the devcontainers CLI default', () => {
    for (const value of ['none', 'loginShell', 'interactiveShell', 'loginInteractiveShell']) {
      assert.equal(load(json({ image: 'x', userEnvProbe: value })).dc.userEnvProbe, value);
    }
    assert.equal(load(json({ image: 'x' })).dc.userEnvProbe, undefined);
    const { message, file } = loadError(json({ image: 'x', userEnvProbe: 'login' }));
    assert.equal(message, `${file}:3:19: userEnvProbe: 'login' is not one of none, loginShell, interactiveShell, loginInteractiveShell`);
  });

  test('a remoteEnv name a shell cannot set is an error at the name', () => {
    const { message, file } = loadError(json({ image: 'x', remoteEnv: { 'MY-VAR': '1' } }));
    assert.match(message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:17: remoteEnv\\.MY-VAR: not a valid environment variable name`));
  });

  test('an unknown variable is an error at the variable', () => {
    const { message, file } = loadError(json({ image: 'x', containerEnv: { A: 'pre-${userHome}' } }));
    assert.equal(message, `${file}:3:29: containerEnv.A: unsupported variable \${userHome}`);
  });

  test('an unknown variable after an escape still names the string', () => {
    const { message, file } = loadError('{\n  "image": "a\\u0041-${nope}"\n}\n');
    assert.equal(message, `${file}:2:21: image: unsupported variable \${nope}`);
  });

  test('${localEnv} without a name', () => {
    const { message, file } = loadError(json({ image: '${localEnv}' }));
    assert.equal(message, `${file}:2:13: image: \${localEnv} names no variable`);
  });
});

describe('workspace mount', () => {
  test('the string form', () => {
    const { root, dc } = load(json({ image: 'x', workspaceMount: 'source=${localWorkspaceFolder},target=/workspace,type=bind,consistency=cached', workspaceFolder: '/workspace', containerEnv: { W: '${containerWorkspaceFolder}' } }));
    assert.deepEqual(dc.workspaceMount, { source: root, target: '/workspace' });
    assert.equal(dc.containerWorkspaceFolder, '/workspace');
    assert.deepEqual(dc.layer.values.env, { W: '/workspace' });
  });

  test('without workspaceFolder the mount target is the container folder', () => {
    const { root, dc } = load(json({ image: 'x', workspaceMount: 'type=bind,source=${localWorkspaceFolder}/sub,target=/code' }), { 'sub/': '' });
    assert.deepEqual(dc.workspaceMount, { source: join(root, 'sub'), target: '/code' });
    assert.equal(dc.containerWorkspaceFolder, '/code');
  });

  test('an empty workspaceMount means no workspace mount', () => {
    const { dc } = load(json({ image: 'x', workspaceMount: '', workspaceFolder: '/app' }));
    assert.equal(dc.workspaceMount, undefined);
    assert.equal(dc.containerWorkspaceFolder, '/app');
  });

  test('a volume workspace mount is an error', () => {
    const { message, file } = loadError(json({ image: 'x', workspaceMount: 'source=ws,target=/ws,type=volume' }));
    assert.equal(message, `${file}:3:21: workspaceMount: only a bind mount of the project is supported by spoon, got type=volume: source=ws,target=/ws,type=volume`);
  });

  test('workspaceFolder must be absolute', () => {
    const { message, file } = loadError(json({ image: 'x', workspaceFolder: 'app' }));
    assert.equal(message, `${file}:3:22: workspaceFolder: 'app' is not an absolute container path`);
  });
});
