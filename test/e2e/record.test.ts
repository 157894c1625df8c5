/**
 * Recordings: `spoon record NAME` writes the shared session as an asciinema v2 `.cast`
 * into the env's home (or `--out FILE`) until Ctrl-C, with markers for joins and leaves;
 * `spoon replay` plays it. The owner and a second person attach with `spoon NAME` in
 * panes of a host tmux server; the owner's commands are typed with tmux send-keys in the
 * env; the recorder runs in its own process group and is stopped the way a terminal's
 * Ctrl-C stops it: SIGINT to the whole group.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './harness.js';
import { SPOON, host, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('rec');
const socket = `spoon-rec-${box.runId}`;

const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

after(() => {
  tmux('kill-server');
});

/** `spoon NAME` in a pane of the host tmux server, of the given size. */
function attachInPane(client: string, size: [number, number]): void {
  const env = box.env();
  const cmd = `env XDG_STATE_HOME=${q(env.XDG_STATE_HOME ?? '')} HOME=${q(env.HOME ?? '')} ${q(process.execPath)} ${q(SPOON)} ${name}; echo spoon-ended=$?; sleep 120`;
  const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', String(size[0]), '-y', String(size[1]), cmd);
  assert.equal(r.code, 0, r.stderr);
}

/** Types a command line into the shared session, as its owner, with tmux in the env. */
async function ownerTypes(line: string): Promise<void> {
  const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'send-keys', '-t', '=pair:', line, 'Enter']);
  assert.equal(r.code, 0, r.stderr);
}

async function paneText(): Promise<string> {
  const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'capture-pane', '-p', '-t', '=pair:']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function clients(): Promise<{ person: string; readOnly: boolean }[]> {
  const r = await box.spoon(['who', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { person: string; readOnly: boolean }[];
}

interface Recorder {
  child: ChildProcess;
  done: Promise<RunResult>;
  stderr: () => string;
}

/** `spoon record ARGS` in its own process group, as a terminal would run it. */
function startRecorder(args: string[]): Recorder {
  const child = spawn(process.execPath, [SPOON, 'record', ...args], { env: box.env(), cwd: box.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/** Ctrl-C at the recorder's terminal: SIGINT to its whole process group. */
async function ctrlC(rec: Recorder): Promise<RunResult> {
  assert.ok(rec.child.pid);
  process.kill(-rec.child.pid, 'SIGINT');
  return rec.done;
}

type Event = [number, string, string];

/** Checks the text is asciinema v2, line by line, and returns its header and events. */
function parseV2(text: string): { header: Record<string, unknown>; events: Event[] } {
  assert.ok(text.endsWith('\n'), 'the last line is complete');
  const [first = '', ...rest] = text.slice(0, -1).split('\n');
  const header = JSON.parse(first) as Record<string, unknown>;
  assert.equal(header.version, 2);
  assert.ok(Number.isInteger(header.width) && Number.isInteger(header.height), JSON.stringify(header));
  assert.equal(typeof header.timestamp, 'number');
  let last = 0;
  const events = rest.map((line, i) => {
    const ev = JSON.parse(line) as Event;
    assert.ok(Array.isArray(ev) && ev.length === 3, `line ${i + 2}: ${line}`);
    assert.ok(typeof ev[0] === 'number' && ev[0] >= last, `line ${i + 2}: time ${ev[0]} after ${last}`);
    assert.ok(['o', 'm', 'r'].includes(ev[1]), `line ${i + 2}: code ${ev[1]}`);
    assert.equal(typeof ev[2], 'string');
    last = ev[0];
    return ev;
  });
  return { header, events };
}

const output = (events: Event[]) => events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
const markers = (events: Event[]) => events.filter((e) => e[1] === 'm').map((e) => e[2]);

describe('record and replay', () => {
  let ref = '';

  test('record writes the session into the env home, with join and leave markers, until Ctrl-C', async () => {
    await box.up(name);
    attachInPane('owner', [150, 40]);
    await waitFor('the owner to be attached', () => (screen('owner').includes('[pair]') ? true : undefined));

    const rec = startRecorder([name]);
    await waitFor('the recorder to start', () => (rec.stderr().includes('Ctrl-C to stop') ? true : undefined));
    assert.match(rec.stderr(), new RegExp(`recording ${name} to ~/recordings/${name}-\\d{8}-\\d{6}\\.cast in the env`));

    // The recorder is a read-only client, named for `who`.
    const watching = (await clients()).find((c) => c.person.endsWith('(recording)'));
    assert.ok(watching, 'who lists the recorder');
    assert.equal(watching.readOnly, true);

    await ownerTypes('echo recorded-$((40+2))');
    await waitFor('the command to run', async () => ((await paneText()).includes('recorded-42') ? true : undefined));

    // A second person attaches, then detaches (C-b d).
    attachInPane('second', [150, 40]);
    await waitFor('the second client to attach', async () => ((await clients()).length === 3 ? true : undefined));
    tmux('send-keys', '-t', 'second:0.0', 'C-b', 'd');
    await waitFor('the second client to leave', async () => ((await clients()).length === 2 ? true : undefined));
    await ownerTypes('echo after-$((1+1))');
    await waitFor('the second command to run', async () => ((await paneText()).includes('after-2') ? true : undefined));

    const r = await ctrlC(rec);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${name}:recordings/${name}-\\d{8}-\\d{6}\\.cast\\n$`));
    ref = r.stdout.trim();
    assert.match(r.stderr, /stopped: recorded \d+s of .* \(2 markers\); play it with: spoon replay /);

    const path = ref.slice(name.length + 1);
    const cat = await box.spoon(['exec', name, '--', 'cat', path]);
    assert.equal(cat.code, 0, cat.stderr);
    const { header, events } = parseV2(cat.stdout);
    // The window (150x39) and the status line below it, as the owner's client draws it.
    assert.equal(header.width, 150);
    assert.equal(header.height, 40);
    const drawn = output(events);
    assert.ok(drawn.includes('echo recorded-$((40+2))'), 'the owner\'s command is in the recording');
    assert.ok(drawn.includes('recorded-42'), 'and its output');
    assert.ok(drawn.includes('after-2'), 'and what came after the second person left');
    const marks = markers(events);
    assert.equal(marks.length, 2, marks.join('\n'));
    assert.match(marks[0] ?? '', /^join \S+ \(member, read-write\)$/);
    assert.match(marks[1] ?? '', /^leave \S+ \(member, read-write\)$/);
    const at = (text: string) => events.findIndex((e) => e[2].includes(text));
    assert.ok(at('recorded-42') < at('join ') && at('leave ') < at('after-2'), 'the markers come where they happened');

    // Only the env user reads it: the session may show secrets.
    const mode = await box.spoon(['exec', name, '--', 'stat', '-c', '%a %U', path]);
    assert.equal(mode.stdout.trim(), '600 dev');
  });

  test('replay NAME:PATH plays it; the recording survives destroy', async () => {
    assert.ok(ref, 'the recording above was made');
    const played = await box.spoon(['replay', ref, '--speed', '1000']);
    assert.equal(played.code, 0, played.stderr);
    assert.ok(played.stdout.includes('echo recorded-$((40+2))') && played.stdout.includes('recorded-42'), played.stdout);
    assert.ok(!played.stdout.includes('join '), 'markers are not drawn');

    tmux('kill-session', '-t', 'owner');
    const gone = await box.spoon(['destroy', name, '--force']);
    assert.equal(gone.code, 0, gone.stderr);
    await box.up(name);
    const again = await box.spoon(['replay', ref, '--speed', '1000']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes('recorded-42'), again.stdout);
  });

  test('--out writes a local file; Ctrl-C leaves it valid; replay plays it', async () => {
    attachInPane('owner2', [100, 30]);
    await waitFor('the owner to be attached', () => (screen('owner2').includes('[pair]') ? true : undefined));
    const file = join(box.dir, 'local.cast');
    const rec = startRecorder([name, '--out', file]);
    await waitFor('the recorder to start', () => (rec.stderr().includes('Ctrl-C to stop') ? true : undefined));
    await ownerTypes('echo local-$((2*21)) é€🙂');
    await waitFor('the command to run', async () => ((await paneText()).includes('local-42') ? true : undefined));
    const r = await ctrlC(rec);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${file}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const { header, events } = parseV2(readFileSync(file, 'utf8'));
    assert.deepEqual([header.width, header.height], [100, 30]);
    assert.ok(output(events).includes('local-42 é€🙂'), 'UTF-8 text arrives whole');
    assert.ok(!output(events).includes('\ufffd'), 'no character was cut in two');

    const played = await box.spoon(['replay', file, '--speed', '1000', '--idle-limit', '0.1']);
    assert.equal(played.code, 0, played.stderr);
    assert.ok(played.stdout.includes('local-42'));

    // An existing --out is never overwritten.
    const again = await box.spoon(['record', name, '--out', file]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /--out: .*local\.cast already exists/);
  });

  test('a recording ends by itself when the session ends', async () => {
    const file = join(box.dir, 'ended.cast');
    const rec = startRecorder([name, '--out', file]);
    await waitFor('the recorder to start', () => (rec.stderr().includes('Ctrl-C to stop') ? true : undefined));
    await ownerTypes('echo last-$((3*3))');
    await waitFor('the command to run', async () => ((await paneText()).includes('last-9') ? true : undefined));
    const kill = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'kill-session', '-t', '=pair']);
    assert.equal(kill.code, 0, kill.stderr);
    const r = await rec.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the session ended: recorded/);
    assert.ok(output(parseV2(readFileSync(file, 'utf8')).events).includes('last-9'));
  });

  test('bad input: a bad file names its line, a missing file or env is said', async () => {
    const bad = join(box.dir, 'bad.cast');
    writeFileSync(bad, '{"version":2,"width":80,"height":24}\n[0.5,"o","ok"]\n[0.7,"o"]\n');
    const r = await box.spoon(['replay', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^spoon: .*bad\.cast:3: an event is \[time, code, data\]$/m);
    assert.equal(r.stdout, '', 'nothing is played from a bad file');

    const missing = await box.spoon(['replay', join(box.dir, 'nope.cast')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.cast: no such file/);

    const notInEnv = await box.spoon(['replay', `${name}:recordings/nope.cast`]);
    assert.equal(notInEnv.code, 2);
    assert.match(notInEnv.stderr, /recordings\/nope\.cast: no such file in the env/);

    const speed = await box.spoon(['replay', bad, '--speed', 'fast']);
    assert.equal(speed.code, 2);
    assert.match(speed.stderr, /--speed: invalid value 'fast'/);

    const noEnv = await box.spoon(['record', box.name('nothere')]);
    assert.equal(noEnv.code, 1);
    assert.match(noEnv.stderr, /no environment named/);
    assert.equal(existsSync(join(box.dir, 'nothere.cast')), false);
  });
});
