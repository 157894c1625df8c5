import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_ENV, sessionEnvFile, sessionEnvScript, withSessionEnv, type SessionEnvInput } from '../../src/core/session-env.js';

const dir = mkdtempSync(join(tmpdir(), 'spoon-session-env-'));

/** Sources the script in `sh` (as spoon's command prelude does) and returns VAR's exact value, or undefined when unset. */
function valueIn(input: SessionEnvInput, variable: string, opts: { probe?: boolean; env?: Record<string, string> } = {}): string | undefined {
  const file = join(dir, `env-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, sessionEnvScript(input));
  const script = `${opts.probe ? 'spoon_probe=1; ' : ''}. "$1"; if [ -n "\${${variable}+x}" ]; then printf 'set:%s' "$${variable}"; fi`;
  const r = spawnSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.startsWith('set:') ? r.stdout.slice(4) : undefined;
}

const plain = (remoteEnv: Record<string, string>): SessionEnvInput => ({ env: {}, remoteEnv, probe: 'none' });

describe('session env: remoteEnv values arrive exactly', () => {
  for (const [what, value] of [
    ['a newline', 'line one\nline two\n'],
    ['a literal $HOME and backquotes', '$HOME `id` $(id)'],
    ['quotes', `it's "quoted" ''`],
    ['backslashes', 'a\\b\\\\c\\n'],
    ['an empty value', ''],
    ['spaces and tabs', '  a \t b  '],
    ['unicode', 'héllo ✓'],
  ]) {
    test(what!, () => assert.equal(valueIn(plain({ V: value! }), 'V'), value));
  }
  test('the env setting too, and remoteEnv wins over it', () => {
    const input = { env: { A: 'from env\nsecond', B: 'env' }, remoteEnv: { B: 'remote' }, probe: 'none' as const };
    assert.equal(valueIn(input, 'A'), 'from env\nsecond');
    assert.equal(valueIn(input, 'B'), 'remote');
  });
  test('${containerEnv:NAME} is the session variable when the file is read; a default when unset', () => {
    const input = plain({ P: "${containerEnv:BASE}:/opt/b'in", D: '${containerEnv:MISSING:it\'s $x}', E: '${containerEnv:MISSING}' });
    assert.equal(valueIn(input, 'P', { env: { BASE: '/usr/bin' } }), "/usr/bin:/opt/b'in");
    assert.equal(valueIn(input, 'D'), "it's $x");
    assert.equal(valueIn(input, 'E'), '');
  });
  test('a name the shell cannot set is left out rather than breaking every session', () => {
    assert.equal(valueIn({ env: { 'BAD-NAME': 'x', OK: 'y' }, remoteEnv: {}, probe: 'none' }, 'OK'), 'y');
  });
  test('the file is root-owned territory, readable by every session', () => {
    const f = sessionEnvFile(plain({ A: '1' }));
    assert.equal(f.path, SESSION_ENV);
    assert.equal(f.mode, 0o644);
  });
  test('none: no probe at all', () => {
    assert.ok(!sessionEnvScript(plain({})).includes('spoon_probe'));
  });
});

describe('session env: userEnvProbe', () => {
  const home = mkdtempSync(join(tmpdir(), 'spoon-probe-home-'));
  // Startup files that talk, as real ones do: the markers must cut that off.
  writeFileSync(join(home, '.bashrc'), 'echo noise from bashrc\nexport FROM_RC="rc value\nwith newline"\nexport SHARED=rc\nexport PATH="/rc/bin:$PATH"\n');
  writeFileSync(join(home, '.bash_profile'), 'echo noise from profile\nexport FROM_PROFILE=profile\n[ -f ~/.bashrc ] && . ~/.bashrc\n');
  writeFileSync(join(home, '.bash_logout'), 'echo noise from logout\n');
  const env = { HOME: home, SHELL: '/bin/bash' };
  const input = (probe: SessionEnvInput['probe']): SessionEnvInput => ({ env: {}, remoteEnv: { SHARED: 'remote wins' }, probe });

  test('loginInteractiveShell: the login and interactive startup files, exactly; remoteEnv over them', () => {
    assert.equal(valueIn(input('loginInteractiveShell'), 'FROM_RC', { probe: true, env }), 'rc value\nwith newline');
    assert.equal(valueIn(input('loginInteractiveShell'), 'FROM_PROFILE', { probe: true, env }), 'profile');
    assert.equal(valueIn(input('loginInteractiveShell'), 'SHARED', { probe: true, env }), 'remote wins');
  });
  test('the probed PATH keeps the entries of the current one it lacks', () => {
    const path = valueIn(input('loginInteractiveShell'), 'PATH', { probe: true, env: { ...env, PATH: `/image/bin:${process.env.PATH}` } })!;
    assert.ok(path.split(':').includes('/rc/bin'), path);
    assert.ok(path.split(':').includes('/image/bin'), path);
  });
  test('loginShell reads the profile, not an interactive rc', () => {
    writeFileSync(join(home, '.bash_profile'), 'export FROM_PROFILE=profile\ncase $- in *i*) . ~/.bashrc;; esac\n');
    assert.equal(valueIn(input('loginShell'), 'FROM_PROFILE', { probe: true, env }), 'profile');
    assert.equal(valueIn(input('loginShell'), 'FROM_RC', { probe: true, env }), undefined);
  });
  test('interactiveShell reads the rc, not the profile', () => {
    assert.equal(valueIn(input('interactiveShell'), 'FROM_RC', { probe: true, env }), 'rc value\nwith newline');
    assert.equal(valueIn(input('interactiveShell'), 'FROM_PROFILE', { probe: true, env }), undefined);
  });
  test('only commands that ask for it probe (the attach does not); spoon_ variables do not leak', () => {
    assert.equal(valueIn(input('loginInteractiveShell'), 'FROM_RC', { probe: false, env }), undefined);
    assert.equal(valueIn(input('loginInteractiveShell'), 'spoon_out', { probe: true, env }), undefined);
  });
});

describe('withSessionEnv', () => {
  test('an env without the file (made by an older spoon) runs the command as before', () => {
    const r = spawnSync('sh', ['-c', withSessionEnv('echo ran; exit 3', true)], { encoding: 'utf8' });
    assert.equal(r.stdout, 'ran\n');
    assert.equal(r.status, 3);
  });
  test('probing is asked for by a variable the file reads', () => {
    assert.match(withSessionEnv('true', true), /^spoon_probe=1; /);
    assert.ok(!withSessionEnv('true', false).includes('spoon_probe'));
  });
});
