/**
 * Configuration end to end: a project's spoon.toml with [env.NAME], `spoon config`,
 * copy into a new env, bad config files (file:line, exit 2, nothing created),
 * `spoon config import`, `spoon build`, and a devcontainer.json project built
 * from its Dockerfile with its lifecycle commands.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, containersLabelled, defaultImageTag, inspect, useSandbox } from './harness.js';

const box = useSandbox();
const project = join(box.dir, 'project');
const name = box.name('cfg');

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

interface FullInspect {
  Image: string;
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: { Memory: number; NanoCpus: number; PortBindings: Record<string, unknown> };
  Mounts: { Type: string; Source: string; Destination: string }[];
}

before(() => {
  mkdirSync(join(project, '.git'), { recursive: true });
  write(join(box.home, '.gitconfig'), '[user]\n\tname = Spoon Tester\n');
  write(
    join(project, 'spoon.toml'),
    [
      '# a project file',
      'ports = [3000]',
      'memory = "256m"',
      `labels = { "test.spoon.run" = "${box.runId}" }`,
      'copy = [".gitconfig", { from = "notes.txt", to = "~/docs/notes.txt", mode = "0600" }]',
      '',
      '[env]',
      'EDITOR = "vim"',
      '',
      `[env.${name}]`,
      'cpus = 1',
      '',
    ].join('\n'),
  );
  write(join(project, 'notes.txt'), 'project notes\n');
});

describe('configuration files', () => {
  test('spoon config shows each value and the file:line it came from', async () => {
    const r = await box.spoon(['config', name, '--json'], { cwd: join(project) });
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(r.stdout) as { keys: Record<string, { value: unknown; source: string; where: string }> };
    const file = join(project, 'spoon.toml');
    assert.deepEqual(cfg.keys.memory, { value: 256 * 1024 ** 2, source: 'project file', where: `${file}:3: memory` });
    assert.deepEqual(cfg.keys.cpus, { value: 1, source: 'project file', where: `${file}:11: cpus` });
    assert.equal(cfg.keys.user?.source, 'default');
    const viaEnv = JSON.parse((await box.spoon(['config', name, '--json'], { cwd: project, env: { SPOON_MEMORY: '1g' } })).stdout) as typeof cfg;
    assert.deepEqual(viaEnv.keys.memory, { value: 1024 ** 3, source: 'env var', where: 'SPOON_MEMORY' });
    const other = JSON.parse((await box.spoon(['config', 'other', '--json'], { cwd: project })).stdout) as typeof cfg;
    assert.equal(other.keys.cpus?.value, null, '[env.NAME] applies to NAME only');
    const text = await box.spoon(['config'], { cwd: project });
    assert.match(text.stdout, /^memory\s+256m\s+.*spoon\.toml:3$/m);
  });

  test('an env made from a subfolder of the project gets the file settings and the copied files', async () => {
    const sub = join(project, 'src', 'deep');
    mkdirSync(sub, { recursive: true });
    await box.up(name, [], { cwd: sub });
    const c = (await api<FullInspect>('GET', `/containers/spoon-${name}/json`)).body;
    assert.equal(c?.HostConfig.Memory, 256 * 1024 ** 2);
    assert.equal(c?.HostConfig.NanoCpus, 1e9);
    assert.ok(c?.HostConfig.PortBindings['3000/tcp']);
    const r = await box.spoon(['exec', name, '--', 'sh', '-c', 'cat ~/.gitconfig ~/docs/notes.txt; stat -c "%U %a" ~/docs/notes.txt ~/docs; echo "$EDITOR"; test -f ~/.bashrc && echo skel-kept'], { cwd: sub });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[user]\n\tname = Spoon Tester\nproject notes\ndev 600\ndev 755\nvim\nskel-kept\n');
  });

  test('copy follows symbolic links, absolute ones too, to what they point at', async () => {
    // Dotfiles kept elsewhere and linked in by absolute paths, as dotfile managers do.
    const dir = join(box.dir, 'links');
    const store = join(box.dir, 'dotfiles');
    write(join(store, 'gitconfig'), '[user]\n\tname = Linked Tester\n');
    write(join(store, 'nvim', 'init.vim'), 'set number\n');
    write(join(dir, '.git', 'HEAD'), '');
    symlinkSync(join(store, 'gitconfig'), join(dir, 'gitconfig-link'));
    symlinkSync(join(store, 'nvim'), join(dir, 'nvim-link'));
    symlinkSync(join(store, 'gitconfig'), join(store, 'nvim', 'abs-inside'));
    symlinkSync('../gitconfig', join(store, 'nvim', 'rel-inside'));
    write(join(dir, 'spoon.toml'), 'copy = [{ from = "gitconfig-link", to = "~/.gitconfig" }, { from = "nvim-link", to = "~/.config/nvim" }]\n');
    const n = box.name('links');
    await box.up(n, [], { cwd: dir });
    const r = await box.spoon(['exec', n, '--', 'sh', '-c', 'cd ~ && cat .gitconfig .config/nvim/init.vim .config/nvim/abs-inside .config/nvim/rel-inside && find .gitconfig .config/nvim -type l'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const git = '[user]\n\tname = Linked Tester\n';
    assert.equal(r.stdout, `${git}set number\n${git}${git}`, 'the files themselves, no links');
  });

  test('a changed project file is noticed, not applied behind the user\'s back', async () => {
    write(join(project, 'spoon.local.toml'), 'memory = "300m"\n');
    const r = await box.spoon(['up', name, '-N', '--config', 'spoon.local.toml'], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /was created with other settings/);
    assert.equal((await api<FullInspect>('GET', `/containers/spoon-${name}/json`)).body?.HostConfig.Memory, 256 * 1024 ** 2);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown key', 'imag = "x"\n', /spoon\.toml:1: unknown key 'imag'/],
    ['wrong type', 'ports = [3000]\nprivileged = "sometimes"\n', /spoon\.toml:2: privileged: expected true or false/],
    ['TOML syntax', 'ports = [3000\n', /spoon\.toml:\d+: invalid TOML/],
    ['bad [env.X]', '[env.Bad_Name]\ncpus = 1\n', /spoon\.toml:1: invalid environment name 'Bad_Name'/],
    ['impossible port', 'ports = [70000]\n', /spoon\.toml:1: ports: invalid value '70000': port 70000 is outside 1-65535/],
    ['negative memory', 'memory = "-5m"\n', /spoon\.toml:1: memory: invalid memory '-5m'/],
    ['missing volume source', 'volumes = ["./nope:/data"]\n', /spoon\.toml:1: volumes: invalid value '\.\/nope:\/data': the host path .*nope does not exist/],
  ];
  for (const [what, text, pattern] of bad) {
    test(`bad config: ${what} → exit 2 naming file:line, nothing created`, async () => {
      const dir = join(box.dir, `bad-${what.replace(/\W+/g, '-')}`);
      mkdirSync(join(dir, '.git'), { recursive: true });
      write(join(dir, 'spoon.toml'), text);
      const n = box.name('bad');
      const r = await box.spoon(['up', n, '-N', '--label', box.label], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('spoon: '));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0] ?? '', pattern);
      assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
    });
  }

  test("config import converts docker-spoon's .spoonrc into config that loads", async () => {
    const rc = write(
      join(box.dir, 'spoonrc'),
      [
        "options[:url] = 'tcp://192.168.1.3:4243'",
        "options[:image] = 'spoon-pairing'",
        'options[:ports] = [ "3000", "8080:80" ]',
        'options[:memory] = "512m"',
        'options[:cpu] = 1',
        'options[:privileged] = true',
        '',
      ].join('\n'),
    );
    const r = await box.spoon(['config', 'import', rc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^image = "spoon-pairing"$/m);
    assert.match(r.stdout, /^ports = \["3000", "8080:80"\]$/m);
    assert.match(r.stderr, /spoonrc:1: not converted: use DOCKER_HOST or --engine/);
    assert.doesNotMatch(r.stderr, /does not load/);
    const dir = join(box.dir, 'imported');
    mkdirSync(join(dir, '.git'), { recursive: true });
    write(join(dir, 'spoon.toml'), r.stdout);
    const cfg = JSON.parse((await box.spoon(['config', '--json'], { cwd: dir })).stdout) as { keys: Record<string, { value: unknown }> };
    assert.equal(cfg.keys.image?.value, 'spoon-pairing');
    assert.equal(cfg.keys.privileged?.value, true);
  });

  test('spoon build runs prebuild, then builds the folder with the given tag', async () => {
    const dir = join(box.dir, 'buildme');
    mkdirSync(join(dir, '.git'), { recursive: true });
    write(join(dir, 'spoon.toml'), `builddir = "image"\nprebuild = ["echo from-prebuild > image/generated.txt"]\n`);
    write(join(dir, 'image', 'Dockerfile'), `FROM ${await defaultImageTag()}\nCOPY generated.txt /etc/generated.txt\nLABEL test.spoon.run=${box.runId}\n`);
    const tag = `spoon-test-build:${box.runId}`;
    const r = await box.spoon(['-b', '-t', tag], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${tag}\n`);
    const n = box.name('built');
    await box.up(n, ['--image', tag]);
    assert.equal((await box.spoon(['exec', n, '--', 'cat', '/etc/generated.txt'])).stdout, 'from-prebuild\n');
    assert.equal((await box.spoon(['destroy', n, '-f', '--volumes'])).code, 0);
    await api('DELETE', `/images/${tag}?force=1`);
  });
});

describe('devcontainer.json', () => {
  const dcProject = join(box.dir, 'dcproject');
  const dn = box.name('dc');

  test('a devcontainer.json project: built from its Dockerfile, env, workspace, lifecycle commands', async () => {
    mkdirSync(join(dcProject, '.git'), { recursive: true });
    write(join(dcProject, 'README.md'), 'the project\n');
    write(join(dcProject, '.devcontainer', 'Dockerfile'), `FROM ${await defaultImageTag()}\nRUN echo built-from-dockerfile > /etc/dc-marker\n`);
    write(
      join(dcProject, '.devcontainer', 'devcontainer.json'),
      `{
  // JSONC: comments and trailing commas
  "name": "spoon test",
  "build": { "dockerfile": "Dockerfile", "context": "." },
  "containerEnv": { "FROM_CONTAINER_ENV": "yes" },
  "remoteEnv": { "FROM_REMOTE_ENV": "\${localWorkspaceFolderBasename}" },
  "onCreateCommand": "echo oncreate >> /tmp/lifecycle",
  "postCreateCommand": ["sh", "-c", "echo postcreate >> /tmp/lifecycle"],
  "postStartCommand": { "a": "echo poststart >> /tmp/lifecycle", "b": "pwd > /tmp/cwd" },
  "customizations": { "spoon": { "labels": { "test.spoon.run": "${box.runId}" } }, "vscode": { "extensions": [] } },
}
`,
    );
    const r = await box.spoon(['up', dn, '-N'], { cwd: dcProject });
    assert.equal(r.code, 0, r.stderr);
    const c = (await api<FullInspect>('GET', `/containers/spoon-${dn}/json`)).body;
    assert.ok(c);
    assert.equal(c.Config.Labels['devcontainer.local_folder'], dcProject);
    assert.equal(c.Config.Labels['devcontainer.config_file'], join(dcProject, '.devcontainer', 'devcontainer.json'));
    assert.ok(c.Config.Env.includes('FROM_CONTAINER_ENV=yes'));
    assert.equal(c.Mounts.find((m) => m.Destination === '/workspaces/dcproject')?.Source, dcProject);
    // Built from the project's Dockerfile: labelled as a build, not as spoon's default image.
    const image = (await api<{ Config: { Labels: Record<string, string> } }>('GET', `/images/${c.Image}/json`)).body;
    assert.equal(image?.Config.Labels['dev.spoon.built'], 'build');

    const look = await box.spoon(['exec', dn, '--', 'sh', '-c', 'cat /etc/dc-marker; pwd; cat README.md; echo "$FROM_CONTAINER_ENV $FROM_REMOTE_ENV"; sort /tmp/lifecycle; cat /tmp/cwd'], { cwd: dcProject });
    assert.equal(look.code, 0, look.stderr);
    assert.equal(look.stdout, 'built-from-dockerfile\n/workspaces/dcproject\nthe project\nyes dcproject\noncreate\npostcreate\npoststart\n/workspaces/dcproject\n');

    // Stop and start: postStart runs again, onCreate and postCreate do not.
    assert.equal((await box.spoon(['stop', dn], { cwd: dcProject })).code, 0);
    assert.equal((await box.spoon(['up', dn, '-N'], { cwd: dcProject })).code, 0);
    const again = await box.spoon(['exec', dn, '--', 'sort', '/tmp/lifecycle'], { cwd: dcProject });
    assert.equal(again.stdout, 'oncreate\npostcreate\npoststart\npoststart\n');
  });

  test('a JSONC syntax error names file:line:col, exit 2, nothing created', async () => {
    const dir = join(box.dir, 'badjsonc');
    mkdirSync(join(dir, '.git'), { recursive: true });
    write(join(dir, '.devcontainer', 'devcontainer.json'), '{\n  // a comment is fine\n  "image": "debian:bookworm"\n  "containerEnv": {}\n}\n');
    const n = box.name('badjsonc');
    const r = await box.spoon(['up', n, '-N', '--label', box.label], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^spoon: ${join(dir, '.devcontainer', 'devcontainer.json').replace(/[.]/g, '\\.')}:4:\\d+: `, 'm'));
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
  });

  test('a feature spoon cannot install (a tarball URL) is reported by name with exit 2, nothing created', async () => {
    const dir = join(box.dir, 'features');
    mkdirSync(join(dir, '.git'), { recursive: true });
    write(join(dir, '.devcontainer.json'), `{ "image": "debian:bookworm", "features": { "https://example.com/node.tgz": {} } }\n`);
    const n = box.name('feat');
    const r = await box.spoon(['up', n, '-N', '--label', box.label], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /features\["https:\/\/example\.com\/node\.tgz"\]: features from a tarball URL are not supported/);
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
    assert.equal(await inspect(`spoon-${n}`), undefined);
  });
});
