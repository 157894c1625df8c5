/**
 * Entering a container through the engine's exec (images without sshd): the Engine's
 * exec() against a plain debian container (no sshd, no tmux), the plain-200 answer of
 * engines that do not upgrade the connection, and runEngineSession binding a real
 * terminal (a host tmux pane) and plain pipes to the exec.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { ROOT, SOCKET, api, host, useSandbox, waitFor } from './harness.js';
import { DockerEngine } from '../../src/engine/docker/docker-engine.js';
import { LOGIN_SHELL, withTerm } from '../../src/core/engine-session.js';
import type { ExecProcess, ExecSpec } from '../../src/engine/engine.js';

const box = useSandbox();
const containerName = box.name('exec');
const engine = new DockerEngine({ kind: 'unix', url: `unix://${SOCKET}`, socketPath: SOCKET });
let id = '';

const BUILT = (p: string) => pathToFileURL(join(ROOT, 'build', p)).href;

before(async () => {
  const created = await api<{ Id: string; message?: string }>('POST', `/containers/create?name=${containerName}`, {
    Image: 'debian:bookworm',
    Entrypoint: ['/bin/sh', '-c', 'trap exit TERM; sleep infinity & wait'],
    Labels: { 'test.spoon.run': box.runId },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  id = created.body!.Id;
  const started = await api('POST', `/containers/${id}/start`);
  assert.equal(started.status, 204, JSON.stringify(started.body));
});

function collect(s: Readable | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!s) return resolve('');
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

/** Runs a command to completion through exec(), optionally feeding stdin. */
async function run(spec: Partial<ExecSpec> & { cmd: string[] }, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = await engine.exec(id, { tty: false, stdin: input !== undefined, ...spec });
  const out = collect(proc.stdout);
  const err = collect(proc.stderr);
  if (input !== undefined) proc.stdin!.end(input);
  const code = await proc.wait();
  return { code, stdout: await out, stderr: await err };
}

describe('Engine.exec', { timeout: 60_000 }, () => {
  test('the exit status passes through', async () => {
    assert.equal((await run({ cmd: ['sh', '-c', 'exit 7'] })).code, 7);
    assert.equal((await run({ cmd: ['true'] })).code, 0);
  });

  test('without a TTY, stdout and stderr stay apart', async () => {
    const r = await run({ cmd: ['sh', '-c', 'echo out; echo err >&2; echo out2; exit 3'] });
    assert.deepEqual(r, { code: 3, stdout: 'out\nout2\n', stderr: 'err\n' });
  });

  test('large interleaved output is demultiplexed whole', async () => {
    const r = await run({ cmd: ['sh', '-c', 'seq 1 100000; seq 1 5000 >&2; seq 100001 200000'] });
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 200000);
    assert.equal(lines[0], '1');
    assert.equal(lines[199999], '200000');
    assert.equal(r.stderr.trimEnd().split('\n').length, 5000);
  });

  test('stdin reaches the command and EOF ends it', async () => {
    const r = await run({ cmd: ['tr', 'a-z', 'A-Z'] }, 'hello');
    assert.deepEqual(r, { code: 0, stdout: 'HELLO', stderr: '' });
    const big = 'x'.repeat(300_000);
    const counted = await run({ cmd: ['wc', '-c'] }, big);
    assert.equal(counted.stdout.trim(), String(big.length));
  });

  test('a command that exits while stdin is still open ends the exec', async () => {
    const proc = await engine.exec(id, { cmd: ['sh', '-c', 'echo done'], tty: false, stdin: true });
    const out = collect(proc.stdout);
    proc.stderr!.resume();
    assert.equal(await proc.wait(), 0);
    assert.equal(await out, 'done\n');
    proc.stdin!.write('late input is dropped, not an error\n');
    proc.stdin!.end();
  });

  test('arguments arrive exactly, with no shell in between', async () => {
    const args = ['a b', "it's", '"quoted"', '$HOME', '*', '', 'back\\slash', 'semi;colon', 'new\nline'];
    const r = await run({ cmd: ['printf', '[%s]\\n', ...args] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, args.map((a) => `[${a}]\n`).join(''));
  });

  test('user, workdir and env apply', async () => {
    assert.equal((await run({ cmd: ['id', '-un'], user: 'nobody' })).stdout, 'nobody\n');
    assert.equal((await run({ cmd: ['id', '-un'] })).stdout, 'root\n');
    assert.equal((await run({ cmd: ['pwd'], workdir: '/usr/share' })).stdout, '/usr/share\n');
    assert.equal((await run({ cmd: ['sh', '-c', 'echo "$FOO|$BAR"'], env: ['FOO=bar baz', 'BAR='] })).stdout, 'bar baz|\n');
  });

  test('with a TTY: a pseudo-terminal, one output stream, and resize', async () => {
    const proc: ExecProcess = await engine.exec(id, { cmd: ['sh', '-c', 'tty; read go; stty size'], tty: true, stdin: true });
    assert.equal(proc.stderr, undefined);
    const out = collect(proc.stdout);
    await proc.resize(100, 40);
    proc.stdin!.write('\r');
    assert.equal(await proc.wait(), 0);
    const text = await out;
    assert.match(text, /^\/dev\/pts\/\d+\r$/m);
    assert.match(text, /^40 100\r$/m);
  });

  test('errors name what failed', async () => {
    const missing = await run({ cmd: ['/no/such/binary'] });
    // The engine reports a command it cannot start with 126 and its runtime's message on the stream.
    assert.equal(missing.code, 126, JSON.stringify(missing));
    assert.match(missing.stdout + missing.stderr, /no such file or directory/);
    await assert.rejects(engine.exec('spoon-no-such-container', { cmd: ['true'], tty: false, stdin: false }), /running true in the container: .*No such container/i);
  });

  test('the login shell used when the image has no tmux is a bash login shell where bash exists', async () => {
    // debian:bookworm has bash: the fallback is a bash login shell (here reading commands from stdin).
    const r = await run({ cmd: ['/bin/sh', '-c', LOGIN_SHELL] }, 'echo "shell=$0 login=$(shopt -q login_shell && echo yes)"\n');
    assert.equal(r.stdout, 'shell=bash login=yes\n');
    assert.deepEqual(withTerm(['A=1'], undefined), ['TERM=xterm-256color', 'A=1']);
    assert.deepEqual(withTerm(['TERM=dumb'], 'screen'), ['TERM=dumb']);
  });
});

describe('an engine that answers exec with a plain 200', { timeout: 60_000 }, () => {
  // A relay that drops the Upgrade request headers: the real engine then answers
  // 200 and streams the output as the response body, as some engines always do.
  let relay: Server;
  const sockets = new Set<Socket>();
  const relayPath = join(box.dir, 'no-upgrade.sock');

  before(async () => {
    relay = createServer((client) => {
      const upstream = connect(SOCKET);
      sockets.add(client).add(upstream);
      client.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        upstream.write(/^(GET|POST|PUT|HEAD|DELETE) /.test(text) ? Buffer.from(text.replace('Connection: Upgrade\r\n', '').replace('Upgrade: tcp\r\n', ''), 'latin1') : d);
      });
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((r) => relay.listen(relayPath, r));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => relay.close(r));
  });

  const plain = () => new DockerEngine({ kind: 'unix', url: `unix://${relayPath}`, socketPath: relayPath });

  test('output and exit status still come through', async () => {
    const proc = await plain().exec(id, { cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], tty: false, stdin: false });
    assert.equal(proc.stdin, undefined);
    const [out, err, code] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.wait()]);
    assert.deepEqual({ out, err, code }, { out: 'out\n', err: 'err\n', code: 5 });
  });

  test('asking for stdin is refused with a clear reason', async () => {
    await assert.rejects(plain().exec(id, { cmd: ['cat'], tty: false, stdin: true }), /did not switch the exec connection to a stream \(it answered HTTP 200\), so spoon cannot send it input/);
  });
});

describe('runEngineSession', { timeout: 90_000 }, () => {
  const script = join(box.dir, 'session.mjs');
  const tmuxSocket = `spoon-exec-${box.runId}`;
  const tmux = (...args: string[]) => host('tmux', ['-L', tmuxSocket, '-f', '/dev/null', ...args]);
  const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'exec').stdout;

  before(() => {
    // argv: container id, tty (1/0), then the command.
    writeFileSync(
      script,
      `import { DockerEngine } from ${JSON.stringify(BUILT('src/engine/docker/docker-engine.js'))};
import { runEngineSession } from ${JSON.stringify(BUILT('src/core/engine-session.js'))};
import { processHooks, processTerminal } from ${JSON.stringify(BUILT('src/cli/context.js'))};
const [id, tty, ...argv] = process.argv.slice(2);
const engine = new DockerEngine({ kind: 'unix', url: 'unix://${SOCKET}', socketPath: '${SOCKET}' });
if (tty === '1') console.log('host-term=' + process.env.TERM);
const code = await runEngineSession(engine, id, { argv, tty: tty === '1', env: ['SPOON_TEST=yes'] }, { terminal: processTerminal(), proc: processHooks(), env: process.env });
console.log('session-exit=' + code + (tty === '1' ? ' raw-after=' + process.stdin.isRaw : ''));
process.exitCode = code;
`,
    );
  });
  after(() => {
    const socketPath = tmux('display', '-p', '#{socket_path}').stdout.trim();
    tmux('kill-server');
    if (socketPath) rmSync(socketPath, { force: true });
  });

  /** Runs the session script with pipes; `onOutput` sees stdout as it grows. */
  const node = (args: string[], input: string | undefined, onOutput?: (stdout: string, pid: number) => void) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [script, id, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        onOutput?.(stdout, child.pid!);
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      if (input !== undefined) child.stdin.end(input);
    });

  test('without a TTY: pipes pass through, the exit status is the command\'s, node exits by itself', async () => {
    const r = await node(['0', 'sh', '-c', 'tr a-z A-Z; echo "env=$SPOON_TEST" >&2; exit 4'], 'piped input\n');
    assert.equal(r.stdout, 'PIPED INPUT\nsession-exit=4\n');
    assert.equal(r.stderr, 'env=yes\n');
    assert.equal(r.code, 4);
  });

  test('SIGTERM ends the session with 143', async () => {
    let sent = false;
    // The command would outlive the test's timeout: only the signal can end the session in time.
    const r = await node(['0', 'sh', '-c', 'echo ready; sleep 3600'], undefined, (stdout, pid) => {
      if (!sent && stdout.includes('ready')) {
        sent = true;
        process.kill(pid, 'SIGTERM');
      }
    });
    assert.equal(r.code, 143, r.stderr);
    assert.equal(r.stdout, 'ready\nsession-exit=143\n');
  });

  test('with a TTY in a real terminal: keys reach the shell, size follows the window, exit ends it', async () => {
    const cmd = `${process.execPath} ${script} ${id} 1 /bin/sh; echo script-exited=$?; sleep 3600`;
    const r = tmux('new-session', '-d', '-s', 'exec', '-x', '120', '-y', '30', cmd);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the remote shell prompt', () => /# $/m.test(pane()) || undefined, 20_000);
    const hostTerm = /host-term=(\S+)/.exec(pane())?.[1];
    assert.ok(hostTerm, pane());

    tmux('send-keys', '-t', 'exec', 'echo marker-$((6*7)) "$TERM" "$SPOON_TEST"; tty', 'Enter');
    await waitFor('marker-42 in the pane', () => pane().includes(`marker-42 ${hostTerm} yes`) || undefined, 20_000);
    assert.match(pane(), /^\/dev\/pts\/\d+$/m);

    const size = (tmux('display', '-p', '-t', 'exec', '#{pane_height} #{pane_width}').stdout.trim());
    tmux('send-keys', '-t', 'exec', 'echo size=$(stty size)', 'Enter');
    await waitFor(`initial size ${size}`, () => pane().includes(`size=${size}`) || undefined, 20_000);

    tmux('resize-window', '-t', 'exec', '-x', '90', '-y', '25');
    const resized = tmux('display', '-p', '-t', 'exec', '#{pane_height} #{pane_width}').stdout.trim();
    assert.notEqual(resized, size);
    await waitFor(`resized ${resized}`, async () => {
      tmux('send-keys', '-t', 'exec', 'echo resized=$(stty size)', 'Enter');
      await new Promise((res) => setTimeout(res, 200));
      return pane().includes(`resized=${resized}`) || undefined;
    }, 20_000);

    // Ctrl-C is a byte for the remote shell (raw mode): it interrupts the remote sleep, not spoon.
    tmux('send-keys', '-t', 'exec', 'sleep 100', 'Enter');
    await new Promise((res) => setTimeout(res, 500));
    tmux('send-keys', '-t', 'exec', 'C-c');
    tmux('send-keys', '-t', 'exec', 'echo after-int=$((1+1))', 'Enter');
    await waitFor('the shell still there after Ctrl-C', () => pane().includes('after-int=2') || undefined, 20_000);

    tmux('send-keys', '-t', 'exec', 'exit', 'Enter');
    await waitFor('the script to exit', () => pane().includes('script-exited=0') || undefined, 20_000);
    assert.match(pane(), /session-exit=0 raw-after=false/);
  });
});
