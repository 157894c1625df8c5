/**
 * Pairing guests: `spoon share` lets someone without engine access into the env's
 * tmux session with plain ssh and their own key; `--read-only` guests see but their
 * keystrokes never reach the shell; guest keys get no command, no forwarding, no
 * sftp; `unshare` revokes and detaches; `who` lists the clients. Every client runs
 * in its own pane of a host tmux server (the owner `spoon NAME`, each guest the
 * system ssh built from `share --json`), driven with send-keys and capture-pane.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { RunResult } from './harness.js';
import { SPOON, api, freePort, host, inspect, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('guests');
const socket = `spoon-test-${box.runId}`;

const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;
const sees = (client: string, text: string) => () => (screen(client).includes(text) ? true : undefined);
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

after(() => {
  tmux('kill-server');
});

interface Share {
  guest: string;
  command: string;
  knownHosts: string;
  user: string;
  host: string;
  port: number;
  readOnly: boolean;
}

interface Client {
  user: string;
  guest: string | null;
  readOnly: boolean;
}

/** Shared by the tests below, which run in order. */
const shares: Record<string, Share> = {};

function newPane(session: string, cmd: string, size: [number, number] = [150, 40]): void {
  const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', String(size[0]), '-y', String(size[1]), cmd);
  assert.equal(r.code, 0, r.stderr);
}

function keyFor(guest: string): string {
  const key = join(box.dir, guest);
  const r = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${guest}@test`, '-f', key]);
  assert.equal(r.code, 0, r.stderr);
  return key;
}

/** The guest's ssh options, from `share --json`'s fields only (no parsing of the command text). */
function sshOptions(guest: string, s: Share): string[] {
  const knownHosts = join(box.dir, `${guest}.known_hosts`);
  writeFileSync(knownHosts, `${s.knownHosts}\n`);
  const alias = s.knownHosts.split(' ')[0] ?? '';
  return [
    '-F', 'none', '-i', join(box.dir, guest), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `HostKeyAlias=${alias}`, '-o', 'StrictHostKeyChecking=yes',
  ];
}

const ssh = (guest: string, s: Share, ...extra: string[]) => [...sshOptions(guest, s), '-p', String(s.port), ...extra, `${s.user}@${s.host}`];

/** A host program with a hard time limit; `signal` is set when it had to be killed. */
function run(cmd: string, args: string[], timeoutMs: number): RunResult & { signal: string | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Connects the guest's ssh -t in host tmux pane GUEST; the pane prints ssh-ended=STATUS when ssh ends. */
function guestAttaches(guest: string, size?: [number, number]): void {
  const s = shares[guest];
  assert.ok(s, `${guest} was shared`);
  const argv = ['ssh', '-t', ...ssh(guest, s)];
  newPane(guest, `${argv.map(q).join(' ')}; echo "ssh-ended=$?"; sleep 120`, size);
}

/** The owner's `spoon NAME` in host pane CLIENT. */
function ownerAttaches(client: string): void {
  const env = box.env();
  newPane(client, `env XDG_STATE_HOME=${q(env.XDG_STATE_HOME ?? '')} HOME=${q(env.HOME ?? '')} ${q(process.execPath)} ${q(SPOON)} ${name}; echo spoon-ended=$?; sleep 120`);
}

/** The env's tmux server, asked as its owner: one line per client, `FORMAT` expanded. */
async function envClients(format: string): Promise<string[]> {
  const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'list-clients', '-F', format]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** Runs CMD in the env as unix user USER through the Engine API; its exit code. */
async function execAs(user: string, cmd: string[]): Promise<number> {
  const made = await api<{ Id: string }>('POST', `/containers/spoon-${name}/exec`, { Cmd: cmd, User: user, AttachStdout: true, AttachStderr: true });
  assert.equal(made.status, 201);
  await api('POST', `/exec/${made.body?.Id}/start`, { Detach: false });
  return waitFor(`exec as ${user} to end`, async () => {
    const r = await api<{ Running: boolean; ExitCode: number }>('GET', `/exec/${made.body?.Id}/json`);
    return r.body && !r.body.Running ? r.body.ExitCode : undefined;
  });
}

async function share(guest: string, extra: string[] = []): Promise<Share> {
  const r = await box.spoon(['share', name, '--key', `${join(box.dir, guest)}.pub`, '--as', guest, ...extra, '--json']);
  assert.equal(r.code, 0, `share --as ${guest}: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as Share;
  shares[guest] = s;
  return s;
}

async function who(): Promise<Client[]> {
  const r = await box.spoon(['who', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Client[];
}

async function existsInEnv(path: string): Promise<boolean> {
  const r = await box.spoon(['exec', name, '--', 'test', '-e', path]);
  assert.ok(r.code === 0 || r.code === 1, `exec test -e ${path}: ${r.code} ${r.stderr}`);
  return r.code === 0;
}

/** What a TCP connection to 127.0.0.1:port sees: refused, or connected and the first bytes (if any) before it closed. */
function probe(port: number): Promise<{ connected: boolean; data: string | undefined }> {
  return new Promise((resolve) => {
    let connected = false;
    const sock = connect(port, '127.0.0.1');
    const done = (data: string | undefined) => (sock.destroy(), resolve({ connected, data }));
    sock.setTimeout(3000, () => done(undefined));
    sock.once('connect', () => (connected = true));
    sock.once('data', (d: Buffer) => done(d.toString()));
    sock.once('error', () => done(undefined));
    sock.once('close', () => done(undefined));
  });
}

/** The lines of stderr that are spoon's error lines. */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('spoon: '));

describe('pairing guests', () => {
  test('the owner attaches; share --json and text mode say how a guest connects', async () => {
    await box.up(name);
    ownerAttaches('owner');
    await waitFor('the owner to be attached to the env tmux session', sees('owner', '[pair]'));

    for (const g of ['alice', 'bob', 'carol']) keyFor(g);
    const pinned = readFileSync(join(box.stateHome, 'spoon', 'envs', name, 'known_hosts'), 'utf8').split('\n').filter(Boolean);

    const alice = await share('alice', ['--read-only']);
    assert.equal(alice.guest, 'alice');
    assert.equal(alice.user, 'spoon-guest-alice');
    assert.equal(alice.host, '127.0.0.1');
    assert.equal(typeof alice.port, 'number');
    assert.ok(Number.isInteger(alice.port) && alice.port > 0, `port ${alice.port}`);
    assert.equal(alice.readOnly, true);
    assert.equal(alice.command, `ssh -t -p ${alice.port} -o HostKeyAlias=spoon-${name} -o StrictHostKeyChecking=yes spoon-guest-alice@127.0.0.1`);
    assert.match(alice.knownHosts, new RegExp(`^spoon-${name} ssh-ed25519 AAAA\\S+$`));
    assert.ok(pinned.includes(alice.knownHosts), `knownHosts is the env's pinned line\n${alice.knownHosts}\nvs\n${pinned.join('\n')}`);

    const id = await box.spoon(['exec', name, '--', 'id', '-u', 'spoon-guest-alice']);
    assert.equal(id.code, 0, `unix user spoon-guest-alice exists in the env: ${id.stderr}`);

    // Text mode: stdout is the one command line; stderr has the known_hosts line and the listen warning.
    // Without --as the guest is named after the key's comment (carol@test).
    const carol = await box.spoon(['share', name, '--key', join(box.dir, 'carol.pub')]);
    assert.equal(carol.code, 0, carol.stderr);
    assert.match(carol.stderr, /read-write guest carol \(unix user spoon-guest-carol\) may join/);
    assert.equal(carol.stdout.split('\n').filter(Boolean).length, 1, `one stdout line:\n${carol.stdout}`);
    assert.ok(carol.stdout.startsWith('ssh -t -p '), carol.stdout);
    assert.equal(carol.stdout, `ssh -t -p ${alice.port} -o HostKeyAlias=spoon-${name} -o StrictHostKeyChecking=yes spoon-guest-carol@127.0.0.1\n`);
    assert.ok(carol.stderr.split('\n').map((l) => l.trim()).includes(alice.knownHosts), `stderr has the known_hosts line:\n${carol.stderr}`);
    assert.match(carol.stderr, /listen/, 'stderr warns that the port only listens on 127.0.0.1');
  });

  test('a read-only guest sees the session but her keystrokes never reach the shell', async () => {
    guestAttaches('alice');
    await waitFor('alice to see the session', sees('alice', '[pair]'), 30_000);

    tmux('send-keys', '-t', 'owner:0.0', 'echo owner-$((40+2))', 'Enter');
    await waitFor('alice to see the owner\'s command run', sees('alice', 'owner-42'), 15_000);

    tmux('send-keys', '-t', 'alice:0.0', 'touch /tmp/alice-was-here', 'Enter');
    // Proof that her keys were handled, in order: detach is the one key a read-only client may use.
    tmux('send-keys', '-t', 'alice:0.0', 'C-b', 'd');
    await waitFor('alice to detach', sees('alice', 'ssh-ended='), 15_000);
    assert.equal(await existsInEnv('/tmp/alice-was-here'), false, 'alice\'s command must not run');
    const owner = screen('owner');
    assert.ok(!owner.includes('alice-was-here'), `alice's keystrokes reached the owner's shell:\n${owner}`);

    // Back in, for the tests that follow.
    tmux('kill-session', '-t', 'alice');
    guestAttaches('alice');
    await waitFor('alice to see the session again', sees('alice', '[pair]'), 30_000);
  });

  test('a read-write guest types and the command runs', async () => {
    const bob = await share('bob');
    assert.equal(bob.readOnly, false);
    assert.equal(bob.user, 'spoon-guest-bob');
    guestAttaches('bob');
    await waitFor('bob to see the session', sees('bob', '[pair]'), 30_000);

    tmux('send-keys', '-t', 'bob:0.0', 'touch /tmp/bob-was-here; echo bob-$((2+3))', 'Enter');
    await waitFor('the owner to see bob\'s command run', sees('owner', 'bob-5'), 15_000);
    assert.equal(await existsInEnv('/tmp/bob-was-here'), true, 'bob\'s command ran');
  });

  test('who lists the owner and both guests with their access', async () => {
    const clients = await who();
    const summary = JSON.stringify(clients);
    assert.equal(clients.length, 3, summary);
    const owner = clients.find((c) => c.user === 'dev');
    assert.ok(owner, summary);
    assert.equal(owner.guest, null);
    assert.equal(owner.readOnly, false);
    const alice = clients.find((c) => c.guest === 'alice');
    assert.ok(alice, summary);
    assert.equal(alice.user, 'spoon-guest-alice');
    assert.equal(alice.readOnly, true);
    const bob = clients.find((c) => c.guest === 'bob');
    assert.ok(bob, summary);
    assert.equal(bob.user, 'spoon-guest-bob');
    assert.equal(bob.readOnly, false);

    const text = await box.spoon(['who', name]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    assert.ok(lines.some((l) => /\sowner\s+read-write/.test(l)), text.stdout);
    assert.ok(lines.some((l) => /^alice\s+guest\s+read-only/.test(l)), text.stdout);
    assert.ok(lines.some((l) => /^bob\s+guest\s+read-write/.test(l)), text.stdout);
    assert.equal(lines.filter((l) => /read-(only|write)/.test(l)).length, 3, text.stdout);
  });

  test('a read-only guest stays in the shared session: C-b ) and C-b ( do not take her elsewhere', async () => {
    const other = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'new-session', '-d', '-s', 'private', 'echo PRIVATE-SESSION-TEXT; sleep 600']);
    assert.equal(other.code, 0, other.stderr);
    try {
      for (const key of [')', '(', ')']) {
        tmux('send-keys', '-t', 'alice:0.0', 'C-b', key);
        // The key was handled: a marker the owner prints afterwards reaches alice's screen.
        const mark = `mark-${key === ')' ? 'next' : 'prev'}-${Math.random().toString(36).slice(2, 8)}`;
        tmux('send-keys', '-t', 'owner:0.0', `echo ${mark}`, 'Enter');
        await waitFor(`alice to see ${mark} in the shared session`, sees('alice', mark), 15_000);
        assert.ok(!screen('alice').includes('PRIVATE-SESSION-TEXT'), `alice saw the owner's other session:\n${screen('alice')}`);
      }
      const sessions = await envClients('#{client_user} #{session_name}');
      assert.ok(sessions.includes('spoon-guest-alice pair'), sessions.join('\n'));
    } finally {
      await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'kill-session', '-t', 'private']);
    }
  });

  test("a guest's smaller terminal never shrinks the owner's window", async () => {
    const [before] = await envClients('#{window_width}x#{window_height}');
    keyFor('dana');
    // Read-write, and typing: tmux sizes the window to the client with the latest activity.
    await share('dana');
    guestAttaches('dana', [60, 15]);
    await waitFor('dana to see the session', sees('dana', '[pair]'), 30_000);
    tmux('send-keys', '-t', 'dana:0.0', 'echo dana-typed-$((5*5))', 'Enter');
    await waitFor("the owner to see dana's command run", sees('owner', 'dana-typed-25'), 15_000);
    const flags = await envClients('#{client_user} #{client_flags}');
    assert.ok(flags.some((l) => l.startsWith('spoon-guest-dana ') && l.includes('ignore-size')), flags.join('\n'));
    const sizes = await envClients('#{window_width}x#{window_height}');
    assert.ok(sizes.every((s) => s === before), `the window was ${before}, now ${sizes.join(', ')}`);
    assert.equal(before, '150x39', 'the owner pane is 150x40, less the status line');
    const r = await box.spoon(['unshare', name, 'dana']);
    assert.equal(r.code, 0, r.stderr);
  });

  test("share again updates a guest; --read-only / --read-write change an attached guest's role at once", async () => {
    const again = await box.spoon(['share', name, '--key', join(box.dir, 'bob.pub'), '--as', 'bob', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { action: string; readOnly: boolean }).action, 'updated');
    const [ttyBefore] = (await envClients('#{client_user} #{client_tty}')).filter((l) => l.startsWith('spoon-guest-bob '));

    const ro = await box.spoon(['share', name, '--as', 'bob', '--read-only']);
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stderr, /guest bob is now read-only/);
    const flags = await envClients('#{client_user} #{client_tty} #{client_readonly}');
    assert.ok(flags.includes(`${ttyBefore} 1`), `bob's same client (no reconnect) is read-only now: ${flags.join('; ')}`);
    tmux('send-keys', '-t', 'bob:0.0', 'touch /tmp/bob-while-read-only', 'Enter');
    tmux('send-keys', '-t', 'owner:0.0', 'echo after-bob-tried', 'Enter');
    await waitFor('bob to see the owner type after him', sees('bob', 'after-bob-tried'), 15_000);
    assert.equal(await existsInEnv('/tmp/bob-while-read-only'), false, 'a read-only guest typed a command that ran');

    const rw = await box.spoon(['share', name, '--as', 'bob', '--read-write']);
    assert.equal(rw.code, 0, rw.stderr);
    assert.match(rw.stderr, /can do everything that user can/, 'says plainly what read-write means');
    tmux('send-keys', '-t', 'bob:0.0', 'C-u', 'touch /tmp/bob-read-write-again; echo bob-rw-$((3*3))', 'Enter');
    await waitFor("the owner to see bob's command run", sees('owner', 'bob-rw-9'), 15_000);
    assert.equal(await existsInEnv('/tmp/bob-read-write-again'), true);

    const unknown = await box.spoon(['share', name, '--as', 'nobody', '--read-only']);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /^spoon: no guest named 'nobody' shares /m);
    const noRole = await box.spoon(['share', name, '--as', 'bob']);
    assert.equal(noRole.code, 2, noRole.stderr);
    assert.match(noRole.stderr, /^spoon: --key: /m);
  });

  test('a guest key runs no command, forwards no port, and has no sftp', async () => {
    const alice = shares.alice;
    assert.ok(alice, 'alice was shared');

    // -v: each refusal below must come after a successful login, not from a failed one.
    const cmd = run('ssh', ['-v', ...ssh('alice', alice), 'touch /tmp/cmd-ran'], 20_000);
    assert.match(cmd.stderr, /Authenticated to /, 'the guest logged in');
    assert.equal(await existsInEnv('/tmp/cmd-ran'), false, `the guest's own command ran (ssh ${cmd.code} ${cmd.signal}: ${cmd.stderr})`);

    // -L: the client listens locally whatever the server allows; the server must refuse the channel.
    const port = await freePort();
    const fwd = spawn('ssh', ['-N', '-L', `${port}:localhost:22`, '-o', 'ExitOnForwardFailure=yes', ...ssh('alice', alice)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let fwdErr = '';
    fwd.stderr.on('data', (d: Buffer) => (fwdErr += d.toString()));
    let fwdExit: number | null | undefined;
    fwd.on('close', (code) => (fwdExit = code));
    try {
      const seen = await waitFor('ssh -L to listen or exit', async () => {
        if (fwdExit !== undefined) return { exited: true, data: undefined };
        const p = await probe(port);
        return p.connected ? { exited: false, data: p.data } : undefined;
      }, 10_000);
      if (seen.exited) assert.notEqual(fwdExit, 0, `ssh -L exited 0: ${fwdErr}`);
      else assert.equal(seen.data, undefined, `-L forwarded to the env's port 22 (got ${JSON.stringify(seen.data)}); ssh: ${fwdErr}`);
    } finally {
      fwd.kill('SIGTERM');
    }

    // -R: the server refuses the remote listener, so ExitOnForwardFailure ends ssh with an error.
    const rport = await freePort();
    const rev = run('ssh', ['-N', '-R', `${rport}:localhost:22`, '-o', 'ExitOnForwardFailure=yes', ...ssh('alice', alice)], 10_000);
    assert.equal(rev.signal, null, `ssh -R was still running after 10 s: ${rev.stderr}`);
    assert.notEqual(rev.code, 0, `ssh -R: ${rev.stderr}`);
    assert.match(rev.stderr, /remote port forwarding failed/i, 'refused by the server after login');

    const knownHosts = sshOptions('alice', alice);
    const sftp = run('sftp', ['-v', '-b', '/dev/null', ...knownHosts, '-P', String(alice.port), `${alice.user}@${alice.host}`], 20_000);
    assert.match(sftp.stderr, /Authenticated to /, 'sftp logged in before it was refused');
    assert.equal(sftp.signal, null, `sftp was still running after 20 s: ${sftp.stderr}`);
    assert.notEqual(sftp.code, 0, `sftp worked: ${sftp.stdout} ${sftp.stderr}`);
  });

  test('unshare detaches the guest at once and her key no longer gets in', async () => {
    const alice = shares.alice;
    assert.ok(alice, 'alice was shared');
    const r = await box.spoon(['unshare', name, 'alice']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('alice\'s ssh to end', sees('alice', 'ssh-ended='), 15_000);

    const again = run('ssh', [...ssh('alice', alice), 'true'], 20_000);
    assert.notEqual(again.code, 0, again.stderr);
    assert.match(again.stderr, /Permission denied/);

    const clients = await who();
    assert.equal(clients.find((c) => c.guest === 'alice' || c.user === 'spoon-guest-alice'), undefined, JSON.stringify(clients));
    assert.ok(clients.find((c) => c.guest === 'bob'), `bob is still connected: ${JSON.stringify(clients)}`);
  });

  test('bad input: missing or non-key files, clashing or invalid names, unknown guests', async () => {
    const missing = join(box.dir, 'nope.pub');
    const notKey = join(box.dir, 'not-a-key.pub');
    writeFileSync(notKey, 'this is not an ssh public key\n');
    const cases: { args: string[]; code: number; names?: string }[] = [
      { args: ['share', name, '--key', missing, '--as', 'dave'], code: 2, names: missing },
      { args: ['share', name, '--key', notKey, '--as', 'dave'], code: 2, names: notKey },
      { args: ['share', name, '--key', join(box.dir, 'bob.pub'), '--as', 'bob', '--for', '5x'], code: 2, names: '--for' },
      { args: ['share', name, '--key', join(box.dir, 'bob.pub'), '--as', 'bob', '--read-only', '--read-write'], code: 2, names: '--read-only' },
      { args: ['share', name, '--key', join(box.dir, 'carol.pub'), '--as', 'Bad Name'], code: 2 },
      { args: ['unshare', name, 'nobody-here'], code: 1, names: 'nobody-here' },
    ];
    for (const c of cases) {
      const r = await box.spoon(c.args);
      const what = `spoon ${c.args.join(' ')} -> ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      assert.equal(r.code, c.code, what);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, what);
      if (c.names) assert.ok(lines[0]?.includes(c.names), `the error names ${c.names}: ${what}`);
    }
    const clients = await who();
    assert.ok(clients.find((c) => c.guest === 'bob' && !c.readOnly), `bad input left bob as he was: ${JSON.stringify(clients)}`);
  });

  test('a timed guest is detached when the time is up and cannot log in again; who shows the time left', async () => {
    keyFor('erin');
    const erin = await share('erin', ['--read-only', '--for', '12s']);
    assert.ok((erin as Share & { expiresAt: string | null }).expiresAt, 'share says when the access ends');
    guestAttaches('erin');
    await waitFor('erin to see the session', sees('erin', '[pair]'), 30_000);
    const listed = (await who()).find((c) => c.guest === 'erin') as (Client & { secondsLeft: number | null }) | undefined;
    assert.ok(listed, 'erin is attached');
    assert.ok(listed.secondsLeft !== null && listed.secondsLeft > 0 && listed.secondsLeft <= 12, `time left: ${listed.secondsLeft}`);

    await waitFor("erin's ssh to end when her time is up", sees('erin', 'ssh-ended='), 60_000);
    const again = run('ssh', [...ssh('erin', erin), 'true'], 20_000);
    assert.notEqual(again.code, 0, again.stderr);
    assert.match(again.stderr, /Permission denied/);
    assert.ok((await who()).every((c) => c.guest !== 'erin'));
  });

  test('guests keep their access when the owner\'s tmux server starts again (spoon restart)', async () => {
    const r = await box.spoon(['restart', name]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor("bob's ssh to end with the restart", sees('bob', 'ssh-ended='), 30_000);
    ownerAttaches('owner2');
    await waitFor('the owner to be attached again', sees('owner2', '[pair]'), 30_000);
    // The engine may publish ssh on another host port after a restart: bob is told the new one.
    const listed = await box.spoon(['list', '--json']);
    const env = (JSON.parse(listed.stdout) as { name: string; ssh: { port: number } | null }[]).find((e) => e.name === name);
    assert.ok(env?.ssh && shares.bob);
    shares.bob = { ...shares.bob, port: env.ssh.port };
    tmux('kill-session', '-t', 'bob');
    guestAttaches('bob');
    await waitFor('bob to be let in again', sees('bob', '[pair]'), 30_000);
    tmux('send-keys', '-t', 'bob:0.0', 'echo bob-after-restart-$((4*4))', 'Enter');
    await waitFor('bob, still read-write, to run a command', sees('owner2', 'bob-after-restart-16'), 15_000);
  });

  test('the audit log has every share, join, leave, role change, unshare and expiry; guests cannot write it or the socket folder', async () => {
    const r = await box.spoon(['who', name, '--log', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const log = JSON.parse(r.stdout) as { time: string; event: string; who: string; kind: string; detail: string }[];
    const has = (event: string, who: string) => log.some((e) => e.event === event && e.who === who);
    for (const [event, who] of [['share', 'alice'], ['join', 'alice'], ['leave', 'alice'], ['unshare', 'alice'], ['role', 'bob'], ['share', 'erin'], ['expire', 'erin']] as const) {
      assert.ok(has(event, who), `${event} ${who} in the log:\n${r.stdout}`);
    }
    assert.ok(log.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time)), 'UTC times');
    assert.ok(log.some((e) => e.event === 'role' && e.who === 'bob' && e.detail.startsWith('read-only')));
    const text = await box.spoon(['who', name, '--log']);
    assert.match(text.stdout, /^TIME \(UTC\)\s+EVENT\s+WHO/m);

    assert.notEqual(await execAs('spoon-guest-bob', ['sh', '-c', 'echo forged >> /home/dev/.local/state/spoon/audit.log']), 0, 'a guest wrote the audit log');
    assert.notEqual(await execAs('spoon-guest-bob', ['touch', '/run/spoon/guest-file']), 0, "a guest made a file in the owner's socket folder");
    const owner = await box.spoon(['exec', name, '--', 'stat', '-c', '%U %a', '/run/spoon']);
    assert.equal(owner.stdout.trim(), 'dev 755');
  });
});

describe('sharing needs tmux 3.3', () => {
  test('an image whose tmux is older than 3.3: a clear refusal naming the fallback, no guest made', async () => {
    // spoon's image with a `tmux` first on PATH that reports 3.2a, committed as a test image.
    const base = box.name('oldtmuxbase');
    await box.up(base);
    const img = (await inspect(`spoon-${base}`))?.Config.Image ?? '';
    const made = await api<{ Id: string }>('POST', '/containers/create', {
      Image: img,
      Entrypoint: ['/bin/sh', '-c', 'printf "#!/bin/sh\\n[ \\"\\$1\\" = -V ] && exec echo tmux 3.2a\\nexec /usr/bin/tmux \\"\\$@\\"\\n" > /usr/local/bin/tmux && chmod 755 /usr/local/bin/tmux'],
      Cmd: [],
      Labels: { 'test.spoon.run': box.runId },
    });
    const id = made.body?.Id ?? '';
    await api('POST', `/containers/${id}/start`);
    await api('POST', `/containers/${id}/wait`);
    const tag = `spoon-test-oldtmux:${box.runId}`;
    assert.equal((await api('POST', `/commit?container=${id}&repo=spoon-test-oldtmux&tag=${box.runId}`)).status, 201);
    const n = box.name('oldtmux');
    try {
      await box.up(n, ['--image', tag]);
      const keyDir = join(box.dir, 'oldtmux-key');
      mkdirSync(keyDir, { recursive: true });
      assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'k')]).code, 0);
      const r = await box.spoon(['share', n, '--key', join(keyDir, 'k.pub'), '--as', 'carl', '--read-only']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^spoon: .* has tmux 3\.2a; sharing needs tmux 3\.3 or newer \(server-access\), so no guest was added$/m);
      assert.match(r.stderr, /^hint: .*spoon NAME/m, 'names the fallback');
      assert.notEqual((await box.spoon(['exec', n, '--', 'id', 'spoon-guest-carl'])).code, 0, 'no guest account was made');
    } finally {
      await box.spoon(['destroy', n, '-f', '--volumes']);
      await api('DELETE', `/containers/${id}?force=1`);
      await api('DELETE', `/images/${tag}?force=1`);
    }
  });
});

describe('which commands make the env', () => {
  test('share of a new env makes it as `spoon NAME` does, setup commands included', async () => {
    const n = box.name('sharenew');
    const keyDir = join(box.dir, 'sharenew-key');
    mkdirSync(keyDir, { recursive: true });
    assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'erin@test', '-f', join(keyDir, 'k')]).code, 0);
    // share takes no creation flags: the settings come from the project's spoon.toml.
    writeFileSync(join(keyDir, 'spoon.toml'), `run_on_create = ["touch ~/made-by-run-on-create"]\nlabels = { "test.spoon.run" = "${box.runId}" }\n`);
    const r = await box.spoon(['share', n, '--key', join(keyDir, 'k.pub')], { cwd: keyDir });
    assert.equal(r.code, 0, r.stderr);
    const ran = await box.spoon(['exec', n, '--', 'test', '-e', 'made-by-run-on-create'], { cwd: keyDir });
    assert.equal(ran.code, 0, 'run_on_create ran when share made the env');
  });

  test('who, unshare and the ssh-config proxy of an env that does not exist: no such env, nothing made', async () => {
    const ghost = box.name('noguests');
    for (const args of [['who', ghost], ['unshare', ghost, 'bob'], ['proxy', ghost]]) {
      const r = await box.spoon(args);
      assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^spoon: no environment named '${ghost}'$`, 'm'));
      assert.equal(await inspect(`spoon-${ghost}`), undefined, `${args[0]} made no container`);
    }
  });
});
