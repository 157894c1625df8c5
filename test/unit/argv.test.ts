import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteArgv } from '../../src/cli/argv.js';

describe('rewriteArgv', () => {
  const cases: [string, string[], string[]][] = [
    ['-l → list', ['-l'], ['list']],
    ['--list → list', ['--list'], ['list']],
    ['--engine X -l', ['--engine', 'X', '-l'], ['--engine', 'X', 'list']],
    ['--engine value that looks like a legacy flag is kept', ['--engine', '-l', 'list'], ['--engine', '-l', 'list']],
    ['-v -l (boolean global flag first)', ['-v', '-l'], ['-v', 'list']],
    ['-d demo', ['-d', 'demo'], ['destroy', 'demo']],
    ['--destroy demo', ['--destroy', 'demo'], ['destroy', 'demo']],
    ['-n demo', ['-n', 'demo'], ['ports', 'demo']],
    ['--network demo', ['--network', 'demo'], ['ports', 'demo']],
    ['--kill demo', ['--kill', 'demo'], ['stop', 'demo']],
    ['--restart demo', ['--restart', 'demo'], ['restart', 'demo']],
    ['--list-images', ['--list-images'], ['images']],
    ['only the first legacy flag is rewritten', ['-d', 'demo', '-l'], ['destroy', 'demo', '-l']],
    ['exec demo ls -la', ['exec', 'demo', 'ls', '-la'], ['exec', 'demo', '--', 'ls', '-la']],
    ['exec --image foo demo ls', ['exec', '--image', 'foo', 'demo', 'ls'], ['exec', '--image', 'foo', 'demo', '--', 'ls']],
    ['exec -p 3000 --user bob demo ls', ['exec', '-p', '3000', '--user', 'bob', 'demo', 'ls'], ['exec', '-p', '3000', '--user', 'bob', 'demo', '--', 'ls']],
    ['--engine X exec demo ls', ['--engine', 'X', 'exec', 'demo', 'ls'], ['--engine', 'X', 'exec', 'demo', '--', 'ls']],
    ['exec demo -- ls', ['exec', 'demo', '--', 'ls'], ['exec', 'demo', '--', 'ls']],
    // A trailing `--` is harmless: commander reports the missing CMD either way.
    ['exec demo (no command)', ['exec', 'demo'], ['exec', 'demo', '--']],
    ['exec demo ls -- x (CMD has its own --)', ['exec', 'demo', 'ls', '--', 'x'], ['exec', 'demo', '--', 'ls', '--', 'x']],
    ['exec -- demo ls', ['exec', '--', 'demo', 'ls'], ['exec', '--', 'demo', 'ls']],
    ['demo -N unchanged', ['demo', '-N'], ['demo', '-N']],
    ['up demo unchanged', ['up', 'demo'], ['up', 'demo']],
    ['up demo -l: legacy flag after a command word is not rewritten', ['up', 'demo', '-l'], ['up', 'demo', '-l']],
    ['exec demo -- -l: not rewritten', ['exec', 'demo', '--', '-l'], ['exec', 'demo', '--', '-l']],
    ['exec demo -l: CMD -l is not rewritten', ['exec', 'demo', '-l'], ['exec', 'demo', '--', '-l']],
    ['exec demo ls -l: CMD flags not rewritten', ['exec', 'demo', 'ls', '-l'], ['exec', 'demo', '--', 'ls', '-l']],
    ['-- -l unchanged', ['--', '-l'], ['--', '-l']],
    ['empty', [], []],
  ];
  for (const [what, input, expected] of cases) {
    test(what, () => {
      const copy = [...input];
      assert.deepEqual(rewriteArgv(input), expected);
      assert.deepEqual(input, copy, 'the input array is not mutated');
    });
  }
});
