import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetEnvState, readEnvState, writeEnvState, type EnvState } from '../../src/state/env-state.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoon-state-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const state: EnvState = {
  containerId: 'abc123def456',
  engineUrl: 'unix:///var/run/docker.sock',
  sshHost: '127.0.0.1',
  sshPort: 32768,
  user: 'dev',
  configHash: '0123456789abcdef',
};

describe('env state', () => {
  test('write then read round trip (parent dirs created, no temp file left)', () => {
    const path = join(dir, 'envs', 'nested', 'demo.json');
    writeEnvState(path, state);
    assert.deepEqual(readEnvState(path), state);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'envs', 'nested')), ['demo.json']);
  });

  test('a second write replaces the first', () => {
    const path = join(dir, 'replace.json');
    writeEnvState(path, state);
    writeEnvState(path, { ...state, sshPort: 40000, containerId: 'other' });
    assert.deepEqual(readEnvState(path), { ...state, sshPort: 40000, containerId: 'other' });
  });

  test('missing file reads as undefined', () => {
    assert.equal(readEnvState(join(dir, 'does-not-exist.json')), undefined);
    assert.equal(readEnvState(join(dir, 'no-such-dir', 'x.json')), undefined);
  });

  const corrupt: [string, string][] = [
    ['truncated JSON', JSON.stringify(state).slice(0, 30)],
    ['empty file', ''],
    ['not JSON', 'hello'],
    ['null', 'null'],
    ['a string', '"abc"'],
    ['an array', '[]'],
    ['sshPort as string', JSON.stringify({ ...state, sshPort: '32768' })],
    ['missing containerId', JSON.stringify({ ...state, containerId: undefined })],
    ['missing user', JSON.stringify({ ...state, user: undefined })],
  ];
  for (const [what, text] of corrupt) {
    test(`${what} reads as undefined`, () => {
      const path = join(dir, `corrupt-${what.replace(/\W/g, '_')}.json`);
      writeFileSync(path, text);
      assert.equal(readEnvState(path), undefined);
    });
  }

  test('forgetEnvState removes the file and ignores a missing one', () => {
    const path = join(dir, 'forget.json');
    writeEnvState(path, state);
    forgetEnvState(path);
    assert.equal(existsSync(path), false);
    assert.equal(readEnvState(path), undefined);
    forgetEnvState(path);
  });
});
