/**
 * Snapshots must not carry access: an env made from a snapshot (`up NEW --from
 * SRC:TAG`) has its own host key (private half too) and pin, none of the guests SRC
 * shared (no account, no login with the key that works on SRC), a /run/spoon of its
 * own; SRC keeps its guest. Each assertion is one that fails if access carried over.
 * The guest logs in with plain ssh and her own key, as `share --json` says.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './harness.js';
import { api, containersLabelled, host, useSandbox } from './harness.js';

const box = useSandbox();
const src = box.name('acc-src');
const dst = box.name('acc-new');
const TAG = 'access';
const HOST_KEY = '/etc/spoon/ssh_host_ed25519_key';
const GUEST = 'spoon-guest-gail';

after(async () => {
  // The snapshot image carries no run label: remove the containers using it first, then it.
  for (const c of await containersLabelled(box.label)) await api('DELETE', `/containers/${c.Id}?force=1`);
  const filters = encodeURIComponent(JSON.stringify({ label: [`dev.spoon.snapshot-of=${src}`] }));
  const images = (await api<{ Id: string }[]>('GET', `/images/json?filters=${filters}`)).body ?? [];
  for (const img of images) await api('DELETE', `/images/${img.Id}?force=1`);
});

interface Share {
  knownHosts: string;
  user: string;
  host: string;
  port: number;
}

const gailKey = join(box.dir, 'gail');
const pinOf = (env: string) => readFileSync(join(box.stateHome, 'spoon', 'envs', env, 'known_hosts'), 'utf8').trim();

/** A file of the env, read as root (the default image's sudo needs no password). */
async function rootCat(env: string, path: string): Promise<string> {
  const r = await box.spoon(['exec', env, '--', 'sudo', '-n', 'cat', path]);
  assert.equal(r.code, 0, `cat ${path} in ${env}: ${r.stderr}`);
  return r.stdout;
}

/** Gail's plain `ssh -v -T ... true` to USER@HOST:PORT with KNOWNHOSTS the only host key she trusts (BatchMode: no prompt). */
function gailSsh(knownHostsLine: string, user: string, hostName: string, port: number): RunResult {
  const file = join(box.dir, `gail-${port}.known_hosts`);
  writeFileSync(file, `${knownHostsLine}\n`);
  const alias = knownHostsLine.split(' ')[0] ?? '';
  const args = [
    '-v', '-T', '-F', 'none', '-i', gailKey, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15',
    '-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', `HostKeyAlias=${alias}`, '-o', 'StrictHostKeyChecking=yes',
    '-p', String(port), `${user}@${hostName}`, 'true',
  ];
  const r = spawnSync('ssh', args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The guest's forced command is `tmux attach`: without a terminal it cannot attach, but the login itself shows in -v. */
function assertLoggedIn(r: RunResult, what: string): void {
  assert.match(r.stderr, /Authenticated to /, `${what}: gail logged in\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Permission denied \(publickey/, what);
}

async function sshEndpoint(env: string): Promise<{ host: string; port: number }> {
  const r = await box.spoon(['list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const e = (JSON.parse(r.stdout) as { name: string; ssh: { host: string; port: number } | null }[]).find((x) => x.name === env);
  assert.ok(e?.ssh, `${env} is listed with an ssh endpoint: ${r.stdout}`);
  return e.ssh;
}

describe('snapshots must not carry access', () => {
  let shared: Share | undefined;
  let srcPin = '';
  let srcPub = '';
  let srcPriv = '';

  test('SRC shares guest gail, who logs in with her own key; then SRC is snapshotted and NEW made from it', async () => {
    await box.up(src);
    const kg = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gail@test', '-f', gailKey]);
    assert.equal(kg.code, 0, kg.stderr);
    const r = await box.spoon(['share', src, '--key', `${gailKey}.pub`, '--as', 'gail', '--json']);
    assert.equal(r.code, 0, r.stderr);
    shared = JSON.parse(r.stdout) as Share;
    assert.equal(shared.user, GUEST);
    assertLoggedIn(gailSsh(shared.knownHosts, shared.user, shared.host, shared.port), 'into SRC');
    assert.equal((await box.spoon(['exec', src, '--', 'id', '-u', GUEST])).code, 0, 'her account exists in SRC');

    srcPin = pinOf(src);
    srcPub = await rootCat(src, `${HOST_KEY}.pub`);
    srcPriv = await rootCat(src, HOST_KEY);
    assert.match(srcPriv, /BEGIN OPENSSH PRIVATE KEY/);

    // SRC's /run/spoon (the owner's tmux socket's folder) as a former run could leave it: open to all, with a stray file.
    const tamper = await box.spoon(['exec', src, '--', 'sudo', '-n', 'sh', '-c', 'touch /run/spoon/planted && chown root /run/spoon && chmod 1777 /run/spoon']);
    assert.equal(tamper.code, 0, tamper.stderr);
    const snap = await box.spoon(['snapshot', src, TAG]);
    assert.equal(snap.code, 0, snap.stderr);
    const restore = await box.spoon(['exec', src, '--', 'sudo', '-n', 'sh', '-c', 'rm /run/spoon/planted && chown dev /run/spoon && chmod 755 /run/spoon']);
    assert.equal(restore.code, 0, restore.stderr);
    await box.up(dst, ['--from', `${src}:${TAG}`]);
  });

  test("NEW has its own host key, private half included, and the pin is NEW's key, not SRC's", async () => {
    const pub = await rootCat(dst, `${HOST_KEY}.pub`);
    const priv = await rootCat(dst, HOST_KEY);
    assert.match(priv, /BEGIN OPENSSH PRIVATE KEY/);
    assert.notEqual(pub.trim(), srcPub.trim(), 'the public host key is new');
    assert.notEqual(priv, srcPriv, 'the private host key is new');
    const keyOf = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');
    const pinned = pinOf(dst).split('\n');
    assert.equal(pinned.length, 1, pinOf(dst));
    const pin = pinned[0] ?? '';
    assert.equal(pin.split(' ')[0], `spoon-${dst}`);
    assert.equal(pin.split(' ').slice(1).join(' '), keyOf(pub), "NEW's pin is its own public key");
    assert.notEqual(pin.split(' ').slice(1).join(' '), keyOf(srcPub), "NEW's pin is not SRC's key");
    assert.equal(pinOf(src), srcPin, "SRC's pin is unchanged");
  });

  test('gail cannot log in to NEW (with its host key pinned), and has no account there', async () => {
    const ep = await sshEndpoint(dst);
    assert.notEqual(ep.port, shared?.port, 'NEW has its own ssh port');
    const r = gailSsh(pinOf(dst), GUEST, ep.host, ep.port);
    // The host key check passed (NEW's pin), so the refusal is about her key, not the host.
    assert.doesNotMatch(r.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/, r.stderr);
    // sshd's refusal of her key (not, say, tmux's of a socket after a login).
    assert.match(r.stderr, /spoon-guest-gail@[^:]+: Permission denied \(publickey\)/, `gail is refused by NEW\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Authenticated to /);
    assert.notEqual(r.code, 0);

    const id = await box.spoon(['exec', dst, '--', 'id', '-u', GUEST]);
    assert.notEqual(id.code, 0, `no account ${GUEST} in NEW: ${id.stdout}`);
    assert.match(id.stderr, /no such user/i);
    const passwd = await rootCat(dst, '/etc/passwd');
    assert.doesNotMatch(passwd, /^spoon-guest-/m, 'no guest account at all in NEW');
  });

  test("NEW's /run/spoon is made afresh (dev's, mode 755, none of SRC's files), and who lists no guest", async () => {
    const st = await box.spoon(['exec', dst, '--', 'stat', '-c', '%U %a', '/run/spoon']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.stdout, 'dev 755\n');
    const left = await box.spoon(['exec', dst, '--', 'ls', '-A', '/run/spoon']);
    assert.equal(left.code, 0, left.stderr);
    assert.doesNotMatch(left.stdout, /planted|tmux\.sock/, "nothing of SRC's /run/spoon is in NEW's");
    const who = await box.spoon(['who', dst, '--json']);
    assert.equal(who.code, 0, who.stderr);
    const clients = JSON.parse(who.stdout) as { role: string; guest: string | null; user: string }[];
    assert.ok(Array.isArray(clients), who.stdout);
    assert.deepEqual(clients.filter((c) => c.role === 'guest' || c.guest !== null || c.user.startsWith('spoon-guest-')), []);
  });

  test('SRC is untouched: gail still logs in there, and it still has her account and host key', async () => {
    assert.ok(shared);
    assertLoggedIn(gailSsh(shared.knownHosts, shared.user, shared.host, shared.port), 'into SRC after NEW was made');
    assert.equal((await box.spoon(['exec', src, '--', 'id', '-u', GUEST])).code, 0);
    assert.equal(await rootCat(src, `${HOST_KEY}.pub`), srcPub);
  });

  test('sharing gail on NEW adds her as a new guest there (nothing of SRC\'s record counts), and she then logs in', async () => {
    const r = await box.spoon(['share', dst, '--key', `${gailKey}.pub`, '--as', 'gail', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Share & { action: string };
    assert.equal(s.action, 'added');
    assert.equal(s.knownHosts, pinOf(dst));
    assertLoggedIn(gailSsh(s.knownHosts, s.user, s.host, s.port), 'into NEW once shared there');
  });

  test('snapshot rm removes the snapshot once NEW is gone', async () => {
    assert.equal((await box.spoon(['destroy', dst, '--force', '--volumes'])).code, 0);
    const rm = await box.spoon(['snapshot', 'rm', `${src}:${TAG}`]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await api('GET', `/images/spoon-snapshot/${src}:${TAG}/json`)).status, 404);
  });
});
