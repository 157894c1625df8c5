/**
 * share and unshare against the in-memory engine: the env helper commands core sends
 * (as whom, with which arguments), what it undoes when one fails, and that a guest
 * comes and goes without the container being restarted. The env is reached through
 * connect()'s cached path: a stand-in ControlMaster listens on its control socket.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureEnv } from '../../src/core/ensure-env.js';
import { HELPER } from '../../src/pairing/env-helper.js';
import { share, unshare } from '../../src/pairing/guests.js';
import { generateEd25519 } from '../../src/ssh/keys.js';
import type { ExecCall, ExecResult } from '../support/fake-engine.js';
import { fakeSetup, type FakeSetup } from '../support/fake-context.js';

let s: FakeSetup;
let keyFile: string;
/** The env's guests as the helper would keep them: user -> record text. */
let guests: Map<string, string>;
/** What each helper command answers, unless a test says otherwise. */
let answers: Record<string, (call: ExecCall) => ExecResult | undefined>;

beforeEach(async () => {
  s = fakeSetup();
  keyFile = join(s.dir, 'alice.pub');
  writeFileSync(keyFile, generateEd25519('alice@laptop').publicKey + '\n');
  guests = new Map();
  answers = {
    'tmux -V': () => ({ code: 0, stdout: 'tmux 3.3a\n' }),
    prune: () => ({ code: 0 }),
    guest: (c) => ({ code: 0, stdout: guests.get(c.cmd[2]!) ?? '' }),
    'add-guest': (c) => (guests.set(c.cmd[2]!, `access=${c.cmd[3]}\n${c.cmd[4] ? `expires=${c.cmd[4]}\n` : ''}`), { code: 0 }),
    'remove-guest': (c) => (guests.delete(c.cmd[2]!), { code: 0 }),
    'id -u': (c) => (guests.has(c.cmd[2]!) ? { code: 0, stdout: '1001\n' } : { code: 1, stderr: `id: '${c.cmd[2]}': no such user` }),
    'sh -c': () => ({ code: 0 }),
  };
  s.engine.onExec((call) => {
    const key = call.cmd[0] === HELPER ? call.cmd[1]! : call.cmd.slice(0, 2).join(' ');
    return answers[key]?.(call);
  });
  await ensureEnv(s.ctx, 'web', s.plan(), { explicitSettings: false });
  await s.fakeMaster('web');
  s.engine.calls.length = 0;
});
afterEach(() => s.dispose());

/** The execs so far, as `user: argv` lines, the helper's path shortened to `pair`. */
const sent = () => s.engine.execs.map((e) => `${e.user}: ${e.cmd.map((a) => (a === HELPER ? 'pair' : a)).join(' ')}`);

const add = (extra: Partial<Parameters<typeof share>[3]> = {}) => share(s.ctx, 'web', s.plan(), { keyFile, guest: undefined, access: undefined, forSeconds: undefined, ...extra });

describe('share', () => {
  test('a new guest: account and forced-command key as root, then into tmux and the audit log as the owner', async () => {
    // The tmux session guests join is the env's (session = "pair" by default).
    const r = await add();
    assert.equal(r.guest, 'alice');
    assert.equal(r.action, 'added');
    assert.equal(r.readOnly, false);
    const lines = sent();
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.deepEqual(lines.slice(0, 3), ['dev: tmux -V', 'root: pair prune', 'root: pair guest spoon-guest-alice']);
    assert.match(lines[3]!, /^root: pair add-guest spoon-guest-alice rw {2}restrict,pty,command="\/etc\/spoon\/pair guest-attach pair" ssh-ed25519 \S+$/);
    assert.match(lines[4]!, /^dev: sh -c .* pair pair spoon-guest-alice rw alice read-write$/);
    // No restart, stop or new container: attached sessions stay.
    assert.deepEqual(s.engine.methods('restartContainer', 'stopContainer', 'startContainer', 'createContainer', 'removeContainer'), []);
  });

  test('read-only for a while: the expiry goes to sshd (expiry-time) and to the record', async () => {
    const r = await add({ guest: 'gina', access: 'ro', forSeconds: 3600 });
    assert.equal(r.readOnly, true);
    const addGuest = s.engine.execs.find((e) => e.cmd[1] === 'add-guest')!;
    const [, , user, access, expires, keyLine] = addGuest.cmd;
    assert.equal(user, 'spoon-guest-gina');
    assert.equal(access, 'ro');
    assert.ok(Number(expires) > Date.now() / 1000 + 3500);
    assert.match(keyLine!, /^restrict,pty,expiry-time="\d{14}Z",command=/);
    assert.equal(r.expiresAt, new Date(Number(expires) * 1000).toISOString());
  });

  test('sharing an existing guest again keeps their role unless told, and is an update', async () => {
    await add({ access: 'ro' });
    s.engine.execs.length = 0;
    const r = await add();
    assert.equal(r.action, 'updated');
    assert.equal(s.engine.execs.find((e) => e.cmd[1] === 'add-guest')!.cmd[3], 'ro');
  });

  test('a failed add removes the half-made account of a new guest', async () => {
    answers['add-guest'] = () => ({ code: 1, stderr: 'useradd: not found' });
    await assert.rejects(add(), /could not add guest 'alice' to web: useradd: not found/);
    assert.equal(sent().at(-1), 'root: pair remove-guest spoon-guest-alice');
  });

  test('a failed update leaves an existing guest in place', async () => {
    await add();
    answers['add-guest'] = () => ({ code: 1, stderr: 'disk full' });
    s.engine.execs.length = 0;
    await assert.rejects(add(), /could not add guest 'alice'/);
    assert.equal(sent().some((l) => l.includes('remove-guest')), false);
  });

  test('tmux older than 3.3 cannot keep read-only guests out: nothing is added', async () => {
    answers['tmux -V'] = () => ({ code: 0, stdout: 'tmux 3.2a\n' });
    await assert.rejects(add(), /web has tmux 3\.2a; sharing needs tmux 3\.3 or newer/);
    assert.deepEqual(sent(), ['dev: tmux -V']);
  });
});

describe('unshare', () => {
  test('out of tmux first (as the owner), then the account (as root)', async () => {
    await add();
    s.engine.execs.length = 0;
    await unshare(s.ctx, 'web', s.plan(), 'alice');
    const lines = sent();
    assert.equal(lines[0], 'root: id -u spoon-guest-alice');
    assert.match(lines[1]!, /^dev: sh -c "\$0" revoke "\$1"; .* pair spoon-guest-alice alice$/);
    assert.equal(lines[2], 'root: pair remove-guest spoon-guest-alice');
    assert.deepEqual(s.engine.methods('restartContainer', 'stopContainer', 'startContainer'), []);
  });

  test('a guest who is not there is an error naming them, and nothing is run as the owner', async () => {
    await assert.rejects(unshare(s.ctx, 'web', s.plan(), 'bob'), /no guest named 'bob' shares web/);
    assert.deepEqual(sent(), ['root: id -u spoon-guest-bob']);
  });
});
