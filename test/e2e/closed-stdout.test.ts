/**
 * A reader that goes away before spoon writes (`spoon --help | head -1`, `spoon list |
 * head -0`): spoon's output ends quietly, with no stack trace, and the command exits
 * with the status it has when its output is read.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { SPOON, useSandbox, type RunResult } from './harness.js';

const box = useSandbox();
const name = box.name('closed');

/** `spoon ARGS | reader` where the reader has closed its end before spoon's first write. */
function spoonIntoClosedPipe(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SPOON, ...args], { env: box.env(), cwd: box.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed at once: node takes far longer to start than this, so every write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr }));
  });
}

before(async () => {
  await box.up(name);
});

describe('stdout closed by its reader', () => {
  const commands: string[][] = [
    ['--version'],
    ['--help'],
    ['up', '--help'],
    ['list'],
    ['list', '--json'],
    ['list', '-q'],
    ['ports', '$N'],
    ['config'],
    ['config', '--json'],
    ['images'],
    ['completion', 'bash'],
    ['ssh-config', '$N'],
  ];
  for (const args of commands) {
    test(`spoon ${args.join(' ')}: quiet, with its usual exit status`, async () => {
      const argv = args.map((a) => a.replace('$N', name));
      const read = await box.spoon(argv);
      assert.equal(read.code, 0, read.stderr);
      assert.notEqual(read.stdout, '', 'the command writes to stdout when it is read');
      const closed = await spoonIntoClosedPipe(argv);
      assert.equal(closed.code, read.code, closed.stderr);
      assert.doesNotMatch(closed.stderr, /EPIPE|^\s+at |internal error|Unhandled/m);
      assert.equal(closed.stderr, read.stderr, 'stderr says what it says when stdout is read');
    });
  }

  test('a failing command keeps its status and its error line', async () => {
    const closed = await spoonIntoClosedPipe(['list', '--bogus']);
    assert.equal(closed.code, 2);
    assert.match(closed.stderr, /^spoon: unknown option '--bogus'$/m);
    assert.doesNotMatch(closed.stderr, /EPIPE|^\s+at /m);
  });
});
