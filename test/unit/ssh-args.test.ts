import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTROL_PERSIST,
  connectionOptions,
  masterArgs,
  masterControlArgs,
  sessionArgs,
  shellQuote,
  tmuxAttachCommand,
  withStableAgent,
  type SshTarget,
} from '../../src/ssh/args.js';

const target: SshTarget = {
  host: '127.0.0.1',
  port: 32768,
  user: 'dev',
  alias: 'spoon-demo',
  identityFile: '/home/u/.local/state/spoon/id_ed25519',
  knownHostsFile: '/home/u/.local/state/spoon/known_hosts/demo',
  controlPath: '/tmp/spoon-ctl/demo',
};

/** The value after each `-o`. */
function oValues(args: string[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === '-o' && args[i + 1] !== undefined) out.push(args[i + 1] as string);
  });
  return out;
}

/** Runs a command line in /bin/sh (as the remote shell would) with a fixed environment. */
function sh(script: string, extraEnv: Record<string, string> = {}) {
  return spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/home/tester', ...extraEnv } });
}

describe('shellQuote', () => {
  const simple: [string[], string][] = [
    [['ls', '-la'], 'ls -la'],
    [['a/b.c', 'x=1', 'u@h:p,q+%'], 'a/b.c x=1 u@h:p,q+%'],
    [['a b'], "'a b'"],
    [["it's"], `'it'\\''s'`],
    [[''], "''"],
    [['', ''], "'' ''"],
    [[], ''],
  ];
  for (const [args, expected] of simple) {
    test(`${JSON.stringify(args)} → ${expected}`, () => {
      assert.equal(shellQuote(args), expected);
    });
  }

  const tricky: [string, string[]][] = [
    ['spaces', ['a b', '  leading', 'trailing  ', 'x  y']],
    ['single quotes', ["it's", "'", "''", "a'b'c"]],
    ['double quotes', ['"', 'say "hi"', '""']],
    ['$HOME and other expansions', ['$HOME', '${HOME}', '$(id)', '$((1+1))', '$', '\\$HOME']],
    ['backticks', ['`id`', '`', 'a`b']],
    ['globs', ['*', '?', '[a-z]', '/*', '.*']],
    ['empty string', ['', 'x', '', '']],
    ['newline', ['a\nb', '\n', 'end\n']],
    ['unicode', ['héllo', '日本語', '🥄 spoon', 'naïve café']],
    ['leading dash', ['-x', '--flag=1', '-', '--']],
    ['shell operators', [';', '&&', '|', '>', '<', '&', 'a;b', '(x)', '{a,b}', '!', '#comment', 'a #b']],
    ['tilde', ['~', '~/x', '~root', 'a=~/x']],
    ['backslashes and tabs', ['\\', 'a\\nb', '\t', 'a\tb']],
  ];
  for (const [what, args] of tricky) {
    test(`round trip through /bin/sh: ${what}`, () => {
      const res = sh(`printf '[%s]\\n' ${shellQuote(args)}`);
      assert.equal(res.status, 0, res.stderr);
      assert.equal(res.stdout, args.map((a) => `[${a}]\n`).join(''));
    });
  }

  describe('the command word itself arrives as given', () => {
    // A program that prints its own name and arguments; given odd names in a
    // temp dir on PATH, so the remote shell must run it rather than read the
    // word as shell syntax.
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'spoon-quote-'));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const names = ['plain-cmd', 'A=1', 'if', '!'];
    for (const name of names) {
      test(`command named ${JSON.stringify(name)}`, () => {
        const file = join(dir, name);
        writeFileSync(file, '#!/bin/sh\nprintf \'ran:%s\\n\' "$(basename "$0")" "$@"\n');
        chmodSync(file, 0o755);
        const res = sh(shellQuote([name, 'arg 1', 'arg2']), { PATH: `${dir}:/usr/bin:/bin` });
        assert.equal(res.stdout, `ran:${name}\nran:arg 1\nran:arg2\n`, `script ${JSON.stringify(shellQuote([name, 'arg 1', 'arg2']))}; stderr: ${res.stderr}`);
        assert.equal(res.status, 0);
      });
    }
  });
});

describe('connectionOptions', () => {
  const args = connectionOptions(target);
  const o = oValues(args);

  for (const expected of ['StrictHostKeyChecking=yes', 'HostKeyAlias=spoon-demo', 'PasswordAuthentication=no', 'BatchMode=yes', 'IdentitiesOnly=yes', 'ForwardAgent=no']) {
    test(`has -o ${expected}`, () => {
      assert.ok(o.includes(expected), JSON.stringify(o));
    });
  }
  test('pins against spoon known_hosts only', () => {
    assert.ok(o.includes(`UserKnownHostsFile=${target.knownHostsFile}`));
    assert.ok(o.includes(`GlobalKnownHostsFile=${target.knownHostsFile}`));
  });
  test('never disables host key checking', () => {
    for (const a of args) {
      assert.ok(!/StrictHostKeyChecking=(no|accept-new|off)/i.test(a), a);
      assert.ok(!/UserKnownHostsFile=\/dev\/null/.test(a), a);
    }
  });
  test('ignores ssh_config, uses the port and identity', () => {
    assert.deepEqual(args.slice(0, 6), ['-F', 'none', '-p', '32768', '-i', target.identityFile]);
  });
});

describe('sessionArgs', () => {
  test('with the master: -S controlPath and ControlMaster=no', () => {
    const args = sessionArgs(target, { tty: true, useMaster: true, forwards: [], forwardAgent: false, command: 'ls' });
    const s = args.indexOf('-S');
    assert.ok(s >= 0);
    assert.equal(args[s + 1], target.controlPath);
    assert.ok(oValues(args).includes('ControlMaster=no'));
    assert.ok(!oValues(args).includes('ControlPath=none'));
    assert.ok(!args.includes('-L'));
    assert.ok(!oValues(args).includes('ExitOnForwardFailure=yes'));
  });

  test('with forwards: no master, -L and ExitOnForwardFailure', () => {
    const args = sessionArgs(target, {
      tty: false,
      useMaster: false,
      forwards: [
        { localPort: 8080, remotePort: 80, bindAddress: '127.0.0.1' },
        { localPort: 3000, remotePort: 3000, bindAddress: '127.0.0.1' },
      ],
      forwardAgent: false,
      command: 'x',
    });
    assert.ok(oValues(args).includes('ControlPath=none'));
    assert.ok(oValues(args).includes('ControlMaster=no'));
    assert.ok(!args.includes('-S'));
    const ls = args.flatMap((a, i) => (a === '-L' ? [args[i + 1]] : []));
    assert.deepEqual(ls, ['127.0.0.1:8080:localhost:80', '127.0.0.1:3000:localhost:3000']);
    assert.ok(oValues(args).includes('ExitOnForwardFailure=yes'));
  });

  for (const [tty, flag, other] of [
    [true, '-t', '-T'],
    [false, '-T', '-t'],
  ] as const) {
    test(`tty ${tty} → ${flag}`, () => {
      const args = sessionArgs(target, { tty, useMaster: true, forwards: [], forwardAgent: false, command: 'ls' });
      assert.equal(args[0], flag);
      assert.ok(!args.includes(other));
    });
  }

  test('forwardAgent forwards the agent instead of disabling it', () => {
    const plain = oValues(sessionArgs(target, { tty: false, useMaster: false, forwards: [], forwardAgent: false, command: 'x' }));
    assert.ok(plain.includes('ForwardAgent=no') && plain.includes('IdentityAgent=none'));
    const agent = oValues(sessionArgs(target, { tty: false, useMaster: false, forwards: [], forwardAgent: true, command: 'x' }));
    assert.ok(agent.includes('ForwardAgent=yes'));
    // ssh keeps the first value of an option: nothing may say "no" before or after.
    assert.ok(!agent.includes('ForwardAgent=no') && !agent.includes('IdentityAgent=none'));
  });

  test('with the agent, the command first points SSH_AUTH_SOCK at the stable socket; without, it is left alone', () => {
    const command = shellQuote(['ssh-add', '-l']);
    const agent = sessionArgs(target, { tty: false, useMaster: false, forwards: [], forwardAgent: true, command });
    assert.equal(agent.at(-1), withStableAgent(command));
    assert.match(agent.at(-1) ?? '', /export SSH_AUTH_SOCK="\$HOME\/\.ssh\/spoon-agent\.sock"; fi; ssh-add -l$/);
    const plain = sessionArgs(target, { tty: false, useMaster: false, forwards: [], forwardAgent: false, command });
    assert.equal(plain.at(-1), command);
  });

  test('ends with user@host, -- and the command', () => {
    const command = shellQuote(['echo', 'a b']);
    const args = sessionArgs(target, { tty: false, useMaster: false, forwards: [], forwardAgent: false, command });
    assert.deepEqual(args.slice(-3), ['dev@127.0.0.1', '--', "echo 'a b'"]);
    assert.ok(args.includes('StrictHostKeyChecking=yes'));
  });
});

describe('master args', () => {
  test('masterArgs backgrounds a master on the control path', () => {
    const args = masterArgs(target);
    assert.deepEqual(args.slice(0, 5), ['-f', '-N', '-M', '-S', target.controlPath]);
    assert.ok(oValues(args).includes(`ControlPersist=${CONTROL_PERSIST}`));
    assert.equal(args.at(-1), 'dev@127.0.0.1');
  });
  test('masterControlArgs', () => {
    assert.deepEqual(masterControlArgs(target, 'exit'), ['-F', 'none', '-S', target.controlPath, '-O', 'exit', 'dev@127.0.0.1']);
  });
});

describe('tmuxAttachCommand', () => {
  test('pair', () => {
    assert.equal(tmuxAttachCommand('pair'), 'tmux new-session -A -s pair');
  });
  test('a session name is quoted when needed', () => {
    assert.equal(tmuxAttachCommand('my session'), "tmux new-session -A -s 'my session'");
  });
});
