import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/program.js';
import { SHELLS, completionScript, completionSpec } from '../../src/cli/completion.js';

describe('completion spec (from the command tree)', () => {
  const spec = completionSpec(buildProgram(() => undefined));
  const cmd = (name: string) => spec.commands.find((c) => c.names.includes(name));

  test('every visible command with its aliases; hidden ones and help left out', () => {
    assert.deepEqual(cmd('destroy')?.names, ['destroy', 'rm']);
    assert.deepEqual(cmd('list')?.names, ['list', 'ls']);
    assert.equal(cmd('proxy'), undefined);
    assert.equal(cmd('help'), undefined);
    assert.ok(cmd('completion'));
  });

  test('which commands take an env NAME first, and their subcommands', () => {
    assert.equal(cmd('up')?.takesName, true);
    assert.equal(cmd('destroy')?.takesName, true);
    assert.equal(cmd('list')?.takesName, false);
    assert.equal(cmd('build')?.takesName, false);
    assert.equal(cmd('completion')?.takesName, false);
    assert.deepEqual(cmd('snapshot')?.subcommands, ['rm']);
    assert.deepEqual(cmd('config')?.subcommands, ['import']);
    assert.equal(cmd('record')?.takesName, true);
    assert.equal(cmd('replay')?.takesName, false);
    assert.equal(cmd('replay')?.takesFile, true);
    assert.equal(cmd('record')?.options.find((o) => o.flags.includes('--out'))?.value, 'file');
    assert.match(completionScript('fish', spec), /^complete -c spoon -n '__spoon_first_arg_of replay' -F$/m);
  });

  test('options: flags, what their value is, hidden ones left out', () => {
    const up = cmd('up');
    assert.deepEqual(up?.options.find((o) => o.flags.includes('--publish'))?.flags, ['-p', '--publish']);
    assert.equal(up?.options.find((o) => o.flags.includes('--publish'))?.value, 'other');
    assert.equal(up?.options.find((o) => o.flags.includes('--builddir'))?.value, 'dir');
    assert.equal(up?.options.find((o) => o.flags.includes('--authorized-key'))?.value, 'file');
    assert.equal(up?.options.find((o) => o.flags.includes('--privileged'))?.value, 'none');
    assert.equal(up?.options.find((o) => o.flags.includes('--nologin')), undefined, 'hidden docker-spoon alias');
    assert.equal(spec.globals.find((o) => o.flags.includes('--config'))?.value, 'file');
  });

  test('descriptions with quotes stay quoted (zsh and fish show them; bash does not)', () => {
    for (const shell of SHELLS) {
      const script = completionScript(shell, spec);
      if (shell !== 'bash') assert.ok(script.includes(`env'"'"'s`), `${shell}: an apostrophe is escaped`);
      assert.doesNotMatch(script, /undefined/);
    }
  });
});
