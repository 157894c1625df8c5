/**
 * devcontainer.json's remoteEnv on every path, as the devcontainers CLI applies it: in
 * `spoon exec`, in lifecycle commands, for a second person who joins, and in new tmux
 * windows, with values that do not survive careless quoting (a newline, a literal
 * `$HOME`, quotes, backslashes, a `${localEnv:…}`). Once for spoon's default image (sshd)
 * and once for debian:bookworm (no sshd: the engine's exec). Also userEnvProbe.
 *
 * The devcontainers CLI 0.89 gives the same bytes for the same file (debian:bookworm,
 * `devcontainer exec … printenv VAR`) except where spoon differs on purpose: a
 * `${localEnv:X}` is the value when the env was created (the CLI takes the caller's
 * at every exec; spoon's env is shared, so everyone sees the same), and
 * `${containerEnv:PATH}` is the session's PATH (the CLI 0.89 gives an empty string there).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, defaultImageTag, host, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const socket = `spoon-test-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

after(() => {
  tmux('kill-server');
});

/** What each variable must be, byte for byte. */
const EXPECTED: Record<string, string> = {
  RE_NEWLINE: 'line one\nline two',
  RE_DOLLAR: '$HOME stays $HOME',
  RE_QUOTES: 'it\'s "q" `x` \\ back\\n',
  RE_LOCAL: 'from the host: $x',
};
const LOCAL = { RE_LOCAL_SRC: 'from the host: $x' };

function project(dir: string, image: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, '.git'), { recursive: true });
  mkdirSync(join(dir, '.devcontainer'), { recursive: true });
  const config = {
    image,
    remoteEnv: {
      RE_NEWLINE: 'line one\nline two',
      RE_DOLLAR: '$HOME stays $HOME',
      RE_QUOTES: 'it\'s "q" `x` \\ back\\n',
      RE_LOCAL: '${localEnv:RE_LOCAL_SRC}',
      RE_PATH: '${containerEnv:PATH}:/opt/re-bin',
    },
    // Each value as the lifecycle command sees it, to compare byte for byte.
    postCreateCommand: `mkdir -p /tmp/pc && for v in ${Object.keys(EXPECTED).join(' ')} RE_PATH; do printenv "$v" > /tmp/pc/$v; done`,
    ...extra,
  };
  writeFileSync(join(dir, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
  return dir;
}

interface Person {
  home: string;
  state: string;
  env: Record<string, string>;
}

function person(who: string): Person {
  const home = join(box.dir, who, 'home');
  const state = join(box.dir, who, 'state');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const r = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${who}@test`, '-f', join(home, '.ssh', 'id_ed25519')]);
  assert.equal(r.code, 0, r.stderr);
  return { home, state, env: { HOME: home, XDG_STATE_HOME: state } };
}

async function printenv(name: string, variable: string, opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await box.spoon(['exec', name, '--', 'printenv', variable], opts);
  assert.equal(r.code, 0, `printenv ${variable}: ${r.stderr}`);
  return r.stdout;
}

for (const kind of ['sshd', 'no-sshd'] as const) {
  describe(`remoteEnv, image with ${kind === 'sshd' ? "sshd (spoon's default)" : 'no sshd (debian:bookworm)'}`, () => {
    const name = box.name(`re-${kind}`);
    const dir = join(box.dir, `proj-${kind}`);

    test('created with the caller\'s ${localEnv:…}', async () => {
      project(dir, kind === 'sshd' ? await defaultImageTag() : 'debian:bookworm');
      const r = await box.spoon(['up', name, '-N', '--label', box.label], { cwd: dir, env: LOCAL });
      assert.equal(r.code, 0, r.stderr);
      if (kind === 'no-sshd') assert.match(r.stderr, /through the engine/);
    });

    test('spoon exec: printenv gives each value exactly', async () => {
      for (const [variable, value] of Object.entries(EXPECTED)) assert.equal(await printenv(name, variable, { cwd: dir }), `${value}\n`, variable);
      // The session's PATH with the folder added: commands are still found.
      const path = await printenv(name, 'RE_PATH', { cwd: dir });
      assert.match(path, /^\/.*\/usr\/bin.*:\/opt\/re-bin\n$/);
    });

    test('postCreateCommand saw the same values', async () => {
      for (const [variable, value] of Object.entries(EXPECTED)) {
        const r = await box.spoon(['exec', name, '--', 'cat', `/tmp/pc/${variable}`], { cwd: dir });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${value}\n`, variable);
      }
    });

    test('a second person (own HOME and state, no project, no local variable) gets the values the env was created with', async () => {
      const other = person(`other-${kind}`);
      for (const [variable, value] of Object.entries(EXPECTED)) assert.equal(await printenv(name, variable, { env: other.env }), `${value}\n`, variable);
    });

    if (kind === 'sshd') {
      test('a new tmux window of the attached session has them too', async () => {
        const cmd = `cd ${q(dir)} && env HOME=${q(box.home)} XDG_STATE_HOME=${q(box.stateHome)} ${q(process.execPath)} ${q(SPOON)} ${name}; sleep 60`;
        const started = tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'owner', '-x', '150', '-y', '40', cmd);
        assert.equal(started.code, 0, started.stderr);
        await waitFor('the owner to be attached', () => (tmux('capture-pane', '-p', '-t', 'owner:0.0').stdout.includes('[pair]') ? true : undefined));
        // The window's shell gets the tmux server's environment, not this exec's.
        const r = await box.spoon(['exec', name, '--', 'env', '-u', 'RE_NEWLINE', '-u', 'RE_QUOTES', 'tmux', '-S', '/run/spoon/tmux.sock', 'new-window', '-d', 'printenv RE_NEWLINE > /tmp/win-newline; printenv RE_QUOTES > /tmp/win-quotes'], { cwd: dir });
        assert.equal(r.code, 0, r.stderr);
        const seen = await waitFor('the window to write', async () => {
          const out = await box.spoon(['exec', name, '--', 'sh', '-c', 'cat /tmp/win-newline /tmp/win-quotes 2>/dev/null'], { cwd: dir });
          return out.stdout.split('\n').length >= 4 ? out.stdout : undefined;
        });
        assert.equal(seen, `${EXPECTED.RE_NEWLINE}\n${EXPECTED.RE_QUOTES}\n`);
      });
    }
  });
}

describe('userEnvProbe', () => {
  const rc = "echo 'export FROM_BASHRC=\"rc says hi\"' >> ~/.bashrc";

  test('unset: loginInteractiveShell, as the devcontainers CLI: exec and lifecycle commands see what ~/.bashrc exports for interactive shells', async () => {
    const name = box.name('probe-default');
    const dir = project(join(box.dir, 'probe-default'), await defaultImageTag(), {
      onCreateCommand: rc,
      postCreateCommand: 'printenv FROM_BASHRC > /tmp/pc-probe',
    });
    const r = await box.spoon(['up', name, '-N', '--label', box.label], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await printenv(name, 'FROM_BASHRC', { cwd: dir }), 'rc says hi\n');
    const pc = await box.spoon(['exec', name, '--', 'cat', '/tmp/pc-probe'], { cwd: dir });
    assert.equal(pc.stdout, 'rc says hi\n', pc.stderr);
    // remoteEnv still wins over the probed environment.
    assert.equal(await printenv(name, 'RE_DOLLAR', { cwd: dir }), `${EXPECTED.RE_DOLLAR}\n`);
  });

  test('none: nothing from the startup files', async () => {
    const name = box.name('probe-none');
    const dir = project(join(box.dir, 'probe-none'), 'debian:bookworm', { userEnvProbe: 'none', onCreateCommand: rc });
    const r = await box.spoon(['up', name, '-N', '--label', box.label], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = await box.spoon(['exec', name, '--', 'printenv', 'FROM_BASHRC'], { cwd: dir });
    assert.equal(out.code, 1, out.stdout);
    assert.equal(await printenv(name, 'RE_NEWLINE', { cwd: dir }), `${EXPECTED.RE_NEWLINE}\n`);
  });

  test('loginShell through the engine (debian:bookworm, root): ~/.profile is read, the image\'s PATH is kept', async () => {
    const name = box.name('probe-login');
    const dir = project(join(box.dir, 'probe-login'), 'debian:bookworm', {
      userEnvProbe: 'loginShell',
      onCreateCommand: `${rc}; echo 'export FROM_PROFILE=yes' >> ~/.profile`,
    });
    const r = await box.spoon(['up', name, '-N', '--label', box.label], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await printenv(name, 'FROM_PROFILE', { cwd: dir }), 'yes\n');
    const path = await printenv(name, 'PATH', { cwd: dir });
    assert.match(path, /\/usr\/local\/sbin/, 'root keeps the sbin folders');
  });
});
