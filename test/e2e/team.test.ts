/**
 * Team pairing: two people, each with their own HOME and spoon state, reach the same
 * engine. The second one joins the env the first made with no setup: spoon authorizes
 * their keys and pins the host key through the engine. Each client is a real
 * `spoon NAME` in its own pane of a host tmux server.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, engineExec, host, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('team');
const socket = `spoon-test-${box.runId}`;

const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

after(() => {
  tmux('kill-server');
});

interface Person {
  home: string;
  state: string;
  env: Record<string, string>;
}

/** A person with their own HOME (and ~/.ssh key named after them) and their own spoon state. */
function person(who: string, comment: string): Person {
  const home = join(box.dir, who, 'home');
  const state = join(box.dir, who, 'state');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const r = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(home, '.ssh', 'id_ed25519')]);
  assert.equal(r.code, 0, r.stderr);
  return { home, state, env: { HOME: home, XDG_STATE_HOME: state } };
}

const alice = person('alice', 'alice@laptop');
const bob = person('bob', 'bob@desk');
const as = (p: Person, args: string[]) => box.spoon(args, { env: p.env });
const pinOf = (p: Person) => readFileSync(join(p.state, 'spoon', 'envs', name, 'known_hosts'), 'utf8');

function attachIn(client: string, p: Person): void {
  const cmd = `env HOME=${q(p.home)} XDG_STATE_HOME=${q(p.state)} ${q(process.execPath)} ${q(SPOON)} ${name}; echo spoon-ended=$?; sleep 60`;
  const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', '150', '-y', '40', cmd);
  assert.equal(r.code, 0, r.stderr);
}

interface Client {
  person: string;
  role: string;
  readOnly: boolean;
}

async function whoIs(p: Person): Promise<Client[]> {
  const r = await as(p, ['who', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Client[]).sort((a, b) => a.person.localeCompare(b.person));
}

describe('team pairing: every engine user joins', () => {
  test('a second person with a brand-new state dir runs a command in the env the first made', async () => {
    const made = await box.spoon(['up', name, '-N', '--label', box.label], { env: alice.env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(existsSync(join(bob.state, 'spoon')), false, "bob's spoon state does not exist yet");

    const r = await as(bob, ['exec', name, '--', 'sh', '-c', 'echo "$SPOON_WHO on $(hostname)"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `bob@desk on ${name}\n`);
    assert.doesNotMatch(r.stderr, /refused|destroy/);
    // Bob's pin is the env's own host key, the same line alice pinned when she made it.
    assert.equal(pinOf(bob), pinOf(alice));
    // His keys went in through the engine, tagged with who he is; alice's are still there.
    const keys = await box.spoon(['exec', name, '--', 'cat', '/etc/spoon/authorized_keys/dev'], { env: alice.env });
    assert.match(keys.stdout, /environment="SPOON_WHO=bob@desk" ssh-ed25519 \S+ bob@desk/);
    assert.match(keys.stdout, /environment="SPOON_WHO=alice@laptop" ssh-ed25519 \S+ alice@laptop/);

    // Joining again (bob's state lost) adds nothing.
    const before = keys.stdout;
    forget(bob);
    const rejoined = await as(bob, ['exec', name, '--', 'cat', '/etc/spoon/authorized_keys/dev']);
    assert.equal(rejoined.code, 0, rejoined.stderr);
    assert.equal(rejoined.stdout, before, 'a second join adds no key line');
  });

  test('a third person joins with plain ssh through ssh-config, from a brand-new state dir', async () => {
    const carol = person('carol', 'carol@tablet');
    const cfg = await as(carol, ['ssh-config', name]);
    assert.equal(cfg.code, 0, cfg.stderr);
    const file = join(box.dir, 'carol', 'ssh_config');
    writeFileSync(file, cfg.stdout);
    const r = host('ssh', ['-F', file, `spoon-${name}`, 'echo "$SPOON_WHO"'], undefined, box.env(carol.env));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'carol@tablet\n');
    assert.equal(pinOf(carol), pinOf(alice));
  });

  test('both attach to one tmux session, see each other type, and who names them', async () => {
    attachIn('alice', alice);
    await waitFor('alice to be attached', () => (screen('alice').includes('[pair]') ? true : undefined));
    attachIn('bob', bob);
    await waitFor('bob to be attached', () => (screen('bob').includes('[pair]') ? true : undefined));

    tmux('send-keys', '-t', 'bob:0.0', 'echo from-bob-$((6*7))', 'Enter');
    await waitFor('alice to see what bob ran', () => (screen('alice').includes('from-bob-42') ? true : undefined), 15_000);

    const clients = await whoIs(alice);
    assert.deepEqual(
      clients.map((c) => [c.person, c.role, c.readOnly]),
      [
        ['alice@laptop', 'owner', false],
        ['bob@desk', 'member', false],
      ],
    );
    const text = await as(bob, ['who', name]);
    assert.match(text.stdout, /alice@laptop\s+owner\s+read-write/);
    assert.match(text.stdout, /bob@desk\s+member\s+read-write/);
  });

  test('stop and destroy say who else is attached, and refuse without a terminal or --force', async () => {
    const stop = await as(alice, ['stop', name]);
    assert.equal(stop.code, 2, stop.stderr);
    assert.match(stop.stderr, /^spoon: refusing to stop .*: others are attached: bob@desk \(member\)$/m);
    assert.doesNotMatch(stop.stderr, /alice@laptop/, 'the caller is not among the others');
    const destroy = await as(bob, ['destroy', name]);
    assert.equal(destroy.code, 2, destroy.stderr);
    assert.match(destroy.stderr, /others are attached: alice@laptop \(owner\)$/m);
    // Nothing was stopped: both are still there.
    assert.equal((await whoIs(alice)).length, 2);
  });

  test('the audit log has both joins, with UTC times', async () => {
    const r = await as(bob, ['who', name, '--log', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const log = JSON.parse(r.stdout) as { time: string; event: string; who: string }[];
    for (const who of ['alice@laptop', 'bob@desk']) {
      const join = log.find((e) => e.event === 'join' && e.who === who);
      assert.ok(join, `a join of ${who} in ${r.stdout}`);
      assert.match(join.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });

  test('after alice makes the env again, bob is told once and his pin follows the engine', async () => {
    const stop = await as(alice, ['stop', name, '--force']);
    assert.equal(stop.code, 0, stop.stderr);
    await waitFor("bob's session to end with the stop", () => (screen('bob').includes('spoon-ended=') ? true : undefined), 20_000);
    const oldPin = pinOf(bob);
    assert.equal((await as(alice, ['destroy', name, '--force'])).code, 0);
    const made = await box.spoon(['up', name, '-N', '--label', box.label], { env: alice.env });
    assert.equal(made.code, 0, made.stderr);
    assert.notEqual(pinOf(alice), oldPin, 'a new container has a new host key');

    const r = await as(bob, ['exec', name, '--', 'echo', 'back']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'back\n');
    assert.equal(r.stderr.split('\n').filter((l) => /new host key/.test(l)).length, 1, r.stderr);
    assert.equal(pinOf(bob), pinOf(alice));
    const quiet = await as(bob, ['exec', name, '--', 'true']);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '', 'said once, not on every command');
  });

  test('a key the env lost is authorized again; a host key the engine does not show is refused', async () => {
    // Someone removed bob's keys from the env: his next command puts them back.
    assert.equal(await engineExec(`spoon-${name}`, ['sed', '-i', '/bob@desk/d', '/etc/spoon/authorized_keys/dev']), 0);
    closeMasters(bob);
    const r = await as(bob, ['exec', name, '--', 'echo', 'still-in']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'still-in\n');
    const keys = await as(alice, ['exec', name, '--', 'cat', '/etc/spoon/authorized_keys/dev']);
    assert.match(keys.stdout, /SPOON_WHO=bob@desk/, "bob's keys are back");

    // A pin that is not the env's key (what a man in the middle would present) stops spoon.
    const forged = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(box.dir, 'forged')]);
    assert.equal(forged.code, 0);
    const forgedKey = readFileSync(join(box.dir, 'forged.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const pinFile = join(bob.state, 'spoon', 'envs', name, 'known_hosts');
    writeFileSync(pinFile, `spoon-${name} ${forgedKey}\n`);
    const closed = await as(bob, ['stop', name, '--force']);
    assert.equal(closed.code, 0, closed.stderr);
    const refused = await as(bob, ['exec', name, '--', 'true']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^spoon: the host key of .* does not match the key spoon pinned; refusing to connect$/m);
    assert.doesNotMatch(refused.stderr, /spoon destroy/, 'no hint to recreate an env others use');
  });
});

/** Loses this person's state of the env (pin and cache), as a new machine would. */
function forget(p: Person): void {
  rmSync(join(p.state, 'spoon', 'envs', name), { recursive: true, force: true });
  closeMasters(p);
}

/** Ends this person's ssh ControlMasters, so their next command logs in afresh. */
function closeMasters(p: Person): void {
  const dir = join(p.state, 'spoon', 'cm');
  for (const sock of existsSync(dir) ? readdirSync(dir) : []) host('ssh', ['-F', 'none', '-S', join(dir, sock), '-O', 'exit', 'x']);
}
