/**
 * `spoon completion bash|zsh|fish`, each loaded into the real shell. bash and fish
 * complete through their own machinery (the bash function with COMP_WORDS set, fish's
 * `complete -C`); zsh's completion widgets need a terminal, so its script runs with the
 * compsys functions it calls (compadd, _describe, _files) replaced by ones that print.
 * Env names come from the engine through `spoon list --quiet`.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, useSandbox } from './harness.js';

const box = useSandbox();
const name = box.name('compl');
const bin = join(box.dir, 'bin');

before(async () => {
  await box.up(name);
  // `spoon` on PATH, as an installed spoon would be: the scripts call it for env names.
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'spoon'), `#!/bin/sh\nexec '${process.execPath}' '${SPOON}' "$@"\n`);
  chmodSync(join(bin, 'spoon'), 0o755);
});

function shell(program: string, script: string): string[] {
  const env = { ...box.env(), PATH: `${bin}:${process.env.PATH ?? ''}` };
  const r = spawnSync(program, program === 'zsh' ? ['-f', '-c', script] : ['-c', script], { env, encoding: 'utf8', timeout: 60_000, cwd: box.dir });
  assert.equal(r.status, 0, `${program}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** Completions bash offers for the words (the last one is being typed). */
function bash(...words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  return shell('bash', `source <(spoon completion bash) && COMP_WORDS=(spoon ${array}) && COMP_CWORD=${words.length} && _spoon && printf '%s\\n' "\${COMPREPLY[@]}"`);
}

function fish(line: string): string[] {
  return shell('fish', `spoon completion fish | source; complete -C '${line}'`).map((l) => l.split('\t')[0] ?? '');
}

// Like compsys, they offer only what matches what is typed ($PREFIX).
const ZSH_STUBS = `
compdef() { }
compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; [[ $1 == -X ]] && shift; shift; done; local w; for w in "$@"; do [[ $w == \${PREFIX}* ]] && print -- $w; done; return 0 }
_describe() { local e; for e in "\${(@P)2}"; do [[ \${e%%:*} == \${PREFIX}* ]] && print -- $e; done; return 0 }
_files() { print -- '<files>' }
_message() { print -- '<value>' }
`;

function zsh(...words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const prefix = words[words.length - 1] ?? '';
  return shell('zsh', `${ZSH_STUBS}\nsource <(spoon completion zsh)\nwords=(spoon ${array}); CURRENT=${words.length + 1}; PREFIX='${prefix}'; _spoon`).map((l) => l.split(':')[0] ?? '');
}

describe('shell completion', () => {
  test('bash: commands, env names where a NAME goes, flags of the command, shells', () => {
    assert.ok(bash('ex').includes('exec'));
    assert.ok(bash('').includes(name), 'spoon NAME');
    assert.ok(bash('destroy', '').includes(name));
    assert.ok(bash('snapshot', '').includes('rm'));
    assert.deepEqual(bash('up', 'x', '--pub'), ['--publish']);
    assert.ok(bash(name, '--no').includes('--no-attach'), 'spoon NAME takes the flags of up');
    assert.deepEqual(bash('list', '-'), ['--json', '-q', '--quiet', '-h', '--help']);
    assert.deepEqual(bash('completion', ''), ['bash', 'zsh', 'fish']);
    assert.deepEqual(bash('destroy', name, ''), [], 'one NAME only');
    assert.deepEqual(bash('up', '--publish', ''), [], 'a flag value is not a NAME');
  });

  test('zsh: the same, with stand-ins for the compsys functions it calls (its widgets need a terminal)', () => {
    assert.deepEqual(zsh('ex'), ['exec']);
    assert.ok(zsh('').includes(name));
    assert.ok(zsh('stop', '').includes(name));
    assert.deepEqual(zsh('up', 'x', '--pub'), ['--publish']);
    assert.deepEqual(zsh('list', '--q'), ['--quiet']);
    assert.deepEqual(zsh('completion', ''), ['bash', 'zsh', 'fish']);
    assert.deepEqual(zsh('--config', ''), ['<files>']);
    assert.deepEqual(zsh('exec', name, ''), ['<files>']);
  });

  test("fish: through fish's own completion engine", () => {
    assert.ok(fish('spoon ex').includes('exec'));
    assert.ok(fish('spoon ').includes(name));
    assert.ok(fish('spoon who ').includes(name));
    assert.deepEqual(fish('spoon up x --pub'), ['--publish']);
    assert.ok(fish(`spoon ${name} --no`).includes('--no-attach'));
    assert.deepEqual(fish('spoon completion ').sort(), ['bash', 'fish', 'zsh']);
  });

  test('an unknown shell is bad input', async () => {
    const r = await box.spoon(['completion', 'tcsh']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^spoon: .*'tcsh' is invalid for argument 'SHELL'\. Allowed choices are bash, zsh, fish\./);
  });

  test('list --quiet prints only names', async () => {
    const r = await box.spoon(['list', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes(name));
    assert.equal(r.stderr, '');
  });
});
