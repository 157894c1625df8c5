// spoon's benchmark: `npm run bench` (build first: `npm run build`).
//
// Measures, in one run against the real local engine, what SPEC.md "Performance"
// promises, each as a ratio against a baseline measured in the same run:
//   reattach  spoon exec on a running env vs plain ssh vs docker exec
//   cold      no container -> first command: spoon vs docker run + ssh (the floor) vs devcontainer CLI
//   warm      stopped -> first command: spoon vs docker start + ssh
//   startup   spoon --version / spoon list vs node -e 0
//   scale     spoon list with 1, 10 and 50 envs; peak RSS of spoon exec and list
//   destroy   spoon destroy vs docker rm -f
// Prints a table and writes bench/results/latest.json. It never fails on a missed
// target: the exit status is non-zero only when a case could not run.
//
// Everything it makes carries the label bench.spoon.run=<run id> (or lives in its
// temp dir) and is removed at the end, after a failed case, and on SIGINT/SIGTERM.
// It assumes a local engine (published ports on 127.0.0.1).
//
// Flags: --spoon=PATH (bench another build of spoon.js; default dist/spoon.js),
// --quick (fewer runs, scale up to 20), --only=reattach,cold,... (only these cases).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const NODE = process.execPath;
const argv = process.argv.slice(2);
const SPOON = argv.find((a) => a.startsWith('--spoon='))?.slice('--spoon='.length) ?? join(ROOT, 'dist', 'spoon.js');
const QUICK = argv.includes('--quick');
const ONLY = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const FAST_RUNS = QUICK ? 3 : 7;
const SLOW_RUNS = QUICK ? 2 : 5;
const SCALE = QUICK ? [1, 10, 20] : [1, 10, 50];
const BATCH = 5;
const RSS_RUNS = 3;
const SSH_RETRY_SLEEP_MS = 5;

const RUN = `b${randomBytes(3).toString('hex')}`;
const LABEL = `bench.spoon.run=${RUN}`;
const TMP = mkdtempSync(join(os.tmpdir(), `spoon-bench-${RUN}-`));
const HOME = join(TMP, 'home');
const STATE = join(TMP, 'state');
const STATE_ROOT = join(STATE, 'spoon');
const DC_WORKSPACE = join(TMP, 'dc-workspace');
const DC_TMP = join(TMP, 'dc-tmp');
mkdirSync(HOME, { mode: 0o700 });
mkdirSync(DC_TMP, { mode: 0o700 });

/** spoon runs with its own HOME, state and config, and none of the user's SPOON_* settings. */
const SPOON_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPOON_')));
Object.assign(SPOON_ENV, { HOME, XDG_STATE_HOME: STATE, XDG_CONFIG_HOME: join(TMP, 'config') });
/** The devcontainer CLI keeps its caches under os.tmpdir(); keep them in our temp dir. */
const DC_ENV = { ...process.env, TMPDIR: DC_TMP };

const started = performance.now();
const children = new Set();
const rows = [];
const notes = [];
const diagnostics = {};
const failures = [];
let aborting = false;
let cleaned = false;

// ---------------------------------------------------------------- processes

/**
 * Runs a command to completion; `ms` is the wall time from spawn to exit.
 * Rejects on a non-zero exit unless check is false.
 */
function run(cmd, args, { env = process.env, cwd = undefined, check = true, timeoutMs = 180_000 } = {}) {
  if (aborting) return Promise.reject(new Error('bench interrupted'));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      children.delete(child);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        if (check && code !== 0) {
          const why = stderr.trim().split('\n').slice(-4).join(' | ') || stdout.trim().split('\n').slice(-2).join(' | ');
          reject(new Error(`${[cmd, ...args].join(' ')} exited ${code ?? signal}: ${why}`));
        } else {
          resolve({ code, signal, stdout, stderr, ms });
        }
      };
      // A daemon the child left behind may hold its stdio open; don't wait for it.
      child.once('close', finish);
      setTimeout(finish, 500).unref();
    });
  });
}

// In an empty folder: spoon looks for spoon.toml and .devcontainer/ from its cwd upwards.
const spoon = (args, opts = {}) => run(NODE, [SPOON, ...args], { env: SPOON_ENV, cwd: HOME, ...opts });
const docker = (args, opts = {}) => run('docker', args, opts);

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

// ---------------------------------------------------------------- statistics and rows

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1] };
}

/** Appends each value to the list of the same name. */
function record(lists, values) {
  for (const [k, v] of Object.entries(values)) lists[k].push(v);
}

const round1 = (x) => Math.round(x * 10) / 10;

function addRow(caseName, subject, what, samples, unit = 'ms') {
  const row = { case: caseName, subject, what, unit, samples: samples.map(round1), ...stats(samples), baseline: null, ratio: null, target: null, met: null };
  rows.push(row);
  return row;
}

/** ratio = row median / base median; target like { op: '<=', limit: 1.0 }. */
function compare(row, base, target, info = false) {
  row.baseline = base.subject;
  row.ratio = row.median / base.median;
  if (target) {
    const { op, limit } = target;
    row.target = `${{ '<=': '≤', '<': '<', '>=': '≥' }[op]} ${limit.toFixed(1)}×${info ? ' (info)' : ''}`;
    row.met = op === '<=' ? row.ratio <= limit : op === '<' ? row.ratio < limit : row.ratio >= limit;
    row.targetInfoOnly = info;
  }
  return row;
}

/** Runs each subject `warmup` times uncounted, then `runs` rounds, rotating the order each round. */
async function interleaved(subjects, runs, warmup = 1) {
  const samples = Object.fromEntries(subjects.map((s) => [s.key, []]));
  for (let w = 0; w < warmup; w++) for (const s of subjects) await s.fn(-1);
  for (let i = 0; i < runs; i++) {
    const order = subjects.map((_, j) => subjects[(i + j) % subjects.length]);
    for (const s of order) samples[s.key].push(await s.fn(i));
  }
  return samples;
}

// ---------------------------------------------------------------- ssh helpers

function sshArgs({ port, key, knownHosts, alias, kex, quiet = false }) {
  return [
    '-F', 'none', '-p', String(port), '-i', key,
    '-o', `HostKeyAlias=${alias}`, '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    ...(kex ? ['-o', `KexAlgorithms=${kex}`] : []),
    ...(quiet ? ['-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'] : []),
  ];
}

/** Retries `ssh … true` (≤ 5 ms apart) until it succeeds; returns the number of tries. */
async function sshUntilOk(args, deadlineMs = 60_000) {
  const t0 = performance.now();
  for (let tries = 1; ; tries++) {
    const r = await run('ssh', args, { env: SPOON_ENV, check: false });
    if (r.code === 0) return tries;
    if (performance.now() - t0 > deadlineMs) throw new Error(`ssh never succeeded within ${deadlineMs / 1000} s (${tries} tries): ${r.stderr.trim()}`);
    await sleep(SSH_RETRY_SLEEP_MS);
  }
}

// ---------------------------------------------------------------- the floor: docker run + sshd + ssh

const floor = {};

/** Host key, client key, authorized_keys and an sshd_config adapted from spoon's, made once, untimed. */
async function prepareFloor(spoonSshdConfig) {
  const dir = join(TMP, 'floor');
  const client = join(TMP, 'floor-client');
  mkdirSync(dir);
  mkdirSync(client, { mode: 0o700 });
  // sshd's StrictModes: the files and /etc/floor must be root's and not group/world writable;
  // authorized_keys is read as the login user, so it (and its folder) must be readable.
  chmodSync(dir, 0o755);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'floor-host', '-f', join(dir, 'ssh_host_ed25519_key')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'floor-client', '-f', join(client, 'id_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(client, 'id_ed25519.pub')), { mode: 0o644 });
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  const config = spoonSshdConfig
    .split('\n')
    .map((line) => line.replace(/^HostKey\s.*/, 'HostKey /etc/floor/ssh_host_ed25519_key').replace(/^AuthorizedKeysFile\s.*/, 'AuthorizedKeysFile /etc/floor/authorized_keys'));
  if (!config.includes('HostKey /etc/floor/ssh_host_ed25519_key') || !config.includes('AuthorizedKeysFile /etc/floor/authorized_keys')) throw new Error(`spoon's sshd_config has no HostKey/AuthorizedKeysFile lines to adapt:\n${spoonSshdConfig}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    // Bind-mounted files keep the host uid; sshd (root) would reject them under StrictModes.
    config.push('StrictModes no');
    notes.push('bench not run as root: the floor sshd_config adds "StrictModes no" (the bind-mounted files are not root-owned)');
  }
  writeFileSync(join(dir, 'sshd_config'), config.join('\n'), { mode: 0o644 });
  chmodSync(join(dir, 'sshd_config'), 0o644);
  const hostPub = readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(join(client, 'known_hosts'), `spoon-bench-floor ${hostPub}\n`, { mode: 0o600 });
  Object.assign(floor, { dir, key: join(client, 'id_ed25519'), knownHosts: join(client, 'known_hosts') });
}

function floorSshArgs(port) {
  // Same handshake as spoon's own connections (curve25519), so the floor is as fast as it gets.
  return [...sshArgs({ port, key: floor.key, knownHosts: floor.knownHosts, alias: 'spoon-bench-floor', kex: 'curve25519-sha256', quiet: true }), 'dev@127.0.0.1', 'true'];
}

function floorRunArgs(name) {
  return [
    'run', '-d', '--name', name, '--label', LABEL, '-p', '127.0.0.1::22', '-v', `${floor.dir}:/etc/floor:ro`,
    '--entrypoint', '/bin/sh', floor.image, '-c', 'mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f /etc/floor/sshd_config',
  ];
}

async function dockerSshPort(name) {
  const r = await docker(['port', name, '22/tcp']);
  const m = /127\.0\.0\.1:(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`docker port ${name} 22/tcp said: ${r.stdout.trim()}`);
  return { port: Number(m[1]), ms: r.ms };
}

/** docker run -d + docker port + ssh retried until `true` runs. Returns total and phases. */
async function floorCold(name, deadlineMs = 60_000) {
  const t0 = performance.now();
  const r = await docker(floorRunArgs(name));
  const p = await dockerSshPort(name);
  const t1 = performance.now();
  let tries;
  try {
    tries = await sshUntilOk(floorSshArgs(p.port), deadlineMs);
  } catch (err) {
    const logs = await docker(['logs', '--tail', '10', name], { check: false });
    throw new Error(`floor container ${name}: ${err.message}\n  its log: ${(logs.stdout + logs.stderr).trim()}`);
  }
  const t2 = performance.now();
  return { ms: t2 - t0, run: r.ms, port: p.ms, ssh: t2 - t1, tries };
}

// ---------------------------------------------------------------- the devcontainer CLI

const dc = {};

function prepareDevcontainer(image) {
  const pkgPath = join(ROOT, 'node_modules', '@devcontainers', 'cli', 'package.json');
  if (!existsSync(pkgPath)) throw new Error('@devcontainers/cli is not installed; run npm install');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.devcontainer;
  mkdirSync(join(DC_WORKSPACE, '.devcontainer'), { recursive: true });
  // overrideCommand is true by default; runArgs only adds our label for cleanup.
  const config = { image, runArgs: ['--label', LABEL] };
  writeFileSync(join(DC_WORKSPACE, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2) + '\n');
  Object.assign(dc, { bin: join(dirname(pkgPath), bin), version: pkg.version, config });
}

const devcontainer = (args, opts = {}) => run(NODE, [dc.bin, ...args], { env: DC_ENV, ...opts });

async function devcontainerCold() {
  const up = await devcontainer(['up', '--workspace-folder', DC_WORKSPACE]);
  const ex = await devcontainer(['exec', '--workspace-folder', DC_WORKSPACE, 'true']);
  const result = JSON.parse(up.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}');
  if (result.outcome !== 'success') throw new Error(`devcontainer up: ${up.stdout.trim()}`);
  return { ms: up.ms + ex.ms, up: up.ms, exec: ex.ms, containerId: result.containerId, remoteUser: result.remoteUser, log: up.stderr };
}

async function removeDevcontainers() {
  const ids = (await docker(['ps', '-aq', '--filter', `label=devcontainer.local_folder=${DC_WORKSPACE}`])).stdout.split(/\s+/).filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
}

// ---------------------------------------------------------------- spoon helpers

const envName = (suffix) => `${RUN}-${suffix}`;
const upArgs = (name) => ['up', name, '-N', '--label', LABEL];
const phaseLine = (stderr) => stderr.split('\n').find((l) => / total \d+ ms/.test(l))?.replace(/^spoon: /, '') ?? '(no phase line)';

async function visibleEnvs() {
  return JSON.parse((await spoon(['list', '--json'])).stdout || '[]').length;
}

// ---------------------------------------------------------------- cases

const R = envName('r');
let image;

async function setup() {
  const built = (await docker(['images', '-q', '--filter', 'label=dev.spoon.built=default'])).stdout.trim();
  if (!built) process.stderr.write("bench: spoon's default image is missing; the first spoon up builds it (about 30 s, not timed)\n");
  await spoon(upArgs(R), { timeoutMs: 15 * 60_000 });
  const listed = JSON.parse((await spoon(['list', '--json'])).stdout);
  image = listed.find((e) => e.name === R)?.image;
  if (!image) throw new Error(`spoon list does not show ${R}`);
  const sshdConfig = (await spoon(['exec', R, '--', 'cat', '/etc/spoon/sshd_config'])).stdout;
  await prepareFloor(sshdConfig);
  floor.image = image;
  try {
    prepareDevcontainer(image);
  } catch (err) {
    failures.push({ case: 'devcontainer', error: err.message });
  }
}

async function caseReattach() {
  const ports = JSON.parse((await spoon(['ports', R, '--json'])).stdout);
  const base = { port: ports.ssh.port, key: join(STATE_ROOT, 'id_ed25519'), knownHosts: join(STATE_ROOT, 'envs', R, 'known_hosts'), alias: `spoon-${R}` };
  const target = `dev@${ports.ssh.host}`;
  const sshDefault = [...sshArgs(base), target, 'true'];
  const sshCurve = [...sshArgs({ ...base, kex: 'curve25519-sha256' }), target, 'true'];
  const verbose = await run('ssh', ['-v', ...sshDefault], { env: SPOON_ENV });
  const defaultKex = /kex: algorithm: (\S+)/.exec(verbose.stderr)?.[1] ?? 'unknown';
  diagnostics.reattachSpoonPhases = phaseLine((await spoon(['-v', 'exec', R, '--', 'true'])).stderr);

  const s = await interleaved(
    [
      { key: 'spoon', fn: async () => (await spoon(['exec', R, '--', 'true'])).ms },
      { key: 'sshDefault', fn: async () => (await run('ssh', sshDefault, { env: SPOON_ENV })).ms },
      { key: 'sshCurve', fn: async () => (await run('ssh', sshCurve, { env: SPOON_ENV })).ms },
      { key: 'docker', fn: async () => (await docker(['exec', `spoon-${R}`, 'true'])).ms },
    ],
    FAST_RUNS,
  );
  const c = 'reattach';
  const ssh = addRow(c, 'ssh (OpenSSH default kex)', `plain \`ssh -p PORT -i KEY dev@127.0.0.1 true\` with spoon's key and pinned known_hosts, new connection each time, OpenSSH's default KexAlgorithms (negotiated: ${defaultKex})`, s.sshDefault);
  const curve = compare(addRow(c, 'ssh -o KexAlgorithms=curve25519-sha256', 'the same plain ssh with -o KexAlgorithms=curve25519-sha256 (the key exchange spoon itself uses), new connection each time', s.sshCurve), ssh);
  compare(addRow(c, 'docker exec spoon-NAME true', 'docker CLI exec into the same running container', s.docker), ssh);
  compare(addRow(c, 'spoon exec NAME -- true', `spoon exec NAME -- true on a running env, ControlMaster warm (started by spoon up, kept 10 min by design), so no handshake; spoon's own phases: ${diagnostics.reattachSpoonPhases}`, s.spoon), ssh, { op: '<=', limit: 1.0 });
  compare(addRow(c, 'spoon exec (same runs) vs curve25519 ssh', 'the same spoon exec samples, compared with plain ssh using curve25519-sha256 instead of the default post-quantum key exchange', s.spoon), curve, { op: '<=', limit: 1.0 }, true);
}

async function caseCold() {
  const spoonT = { total: [], up: [], exec: [] };
  const floorT = { total: [], run: [], port: [], ssh: [], tries: [] };
  const dcT = { total: [], up: [], exec: [] };
  const spoonExecT = [];
  let dcUser;
  let dcManifestFetches = 0;
  const all = [
    {
      key: 'spoon',
      fn: async (i) => {
        const name = envName(i < 0 ? 'cw' : `c${i}`);
        const up = await spoon(upArgs(name));
        const ex = await spoon(['exec', name, '--', 'true']);
        if (i >= 0) record(spoonT, { total: up.ms + ex.ms, up: up.ms, exec: ex.ms });
        await spoon(['destroy', name, '-f', '--volumes']);
      },
    },
    {
      // The one-command path: exec creates the env when it is missing.
      key: 'spoonExec',
      fn: async (i) => {
        const name = envName(i < 0 ? 'cxw' : `cx${i}`);
        const ex = await spoon(['exec', '--label', LABEL, name, '--', 'true']);
        if (i >= 0) spoonExecT.push(ex.ms);
        await spoon(['destroy', name, '-f', '--volumes']);
      },
    },
    {
      key: 'floor',
      fn: async (i) => {
        const name = envName(i < 0 ? 'floor-cw' : `floor-c${i}`);
        const f = await floorCold(name, i < 0 ? 20_000 : 60_000);
        if (i >= 0) record(floorT, { total: f.ms, run: f.run, port: f.port, ssh: f.ssh, tries: f.tries });
        await docker(['rm', '-f', name]);
      },
    },
    {
      key: 'dc',
      fn: async (i) => {
        const d = await devcontainerCold();
        dcUser = d.remoteUser;
        if (i < 0) diagnostics.devcontainerFirstUpLog = d.log.trim().split('\n').slice(-8);
        else if (/control manifest/i.test(d.log)) dcManifestFetches++;
        if (i >= 0) record(dcT, { total: d.ms, up: d.up, exec: d.exec });
        await removeDevcontainers();
      },
    },
  ];
  const subjects = all.filter((x) => x.key !== 'dc' || dc.bin);
  // One uncounted warm-up per subject: it also checks the floor's sshd accepts our files, and
  // lets the devcontainer CLI cache its control manifest (it is offline here; see notes).
  await interleaved(subjects, SLOW_RUNS, 1);
  const med = (xs) => Math.round(stats(xs).median);

  // Phase timings of one more spoon create (untimed in the table).
  const diag = envName('cd');
  const up = await spoon(['-v', ...upArgs(diag)]);
  const ex = await spoon(['-v', 'exec', diag, '--', 'true']);
  diagnostics.coldSpoonPhases = { up: phaseLine(up.stderr), exec: phaseLine(ex.stderr), upMs: Math.round(up.ms), execMs: Math.round(ex.ms) };
  await spoon(['destroy', diag, '-f', '--volumes']);

  const c = 'cold';
  const fl = addRow(c, 'floor: docker run -d + ssh retry', `docker run -d (same image, sshd with an sshd_config like spoon's, keys bind-mounted) + docker port + \`ssh … true\` (curve25519) retried every ${SSH_RETRY_SLEEP_MS} ms until it succeeds; medians: docker run ${med(floorT.run)} ms, docker port ${med(floorT.port)} ms, ssh until ok ${med(floorT.ssh)} ms in ${med(floorT.tries)} tries`, floorT.total);
  const sp = compare(addRow(c, 'spoon up NAME -N && spoon exec NAME -- true', `from no container (image present) to the first command: spoon up -N (creates volume + container, provisions, starts, waits for sshd, starts the ControlMaster) then spoon exec over that master; medians: up ${med(spoonT.up)} ms, exec ${med(spoonT.exec)} ms; phases of one extra up: ${diagnostics.coldSpoonPhases.up}`, spoonT.total), fl, { op: '<=', limit: 1.3 });
  const sx = compare(addRow(c, 'spoon exec NAME -- true (creates the env)', 'the same start from no container, in one spoon process: spoon exec --label … NAME -- true creates, starts and connects, then runs true (not the command the target names; shown to separate the cost of a second node process)', spoonExecT), fl, { op: '<=', limit: 1.3 }, true);
  if (dc.bin) compare(addRow(c, 'devcontainer up + devcontainer exec true', `@devcontainers/cli ${dc.version} via node ${dc.bin.replace(ROOT + '/', '')}: devcontainer up --workspace-folder DIR then devcontainer exec --workspace-folder DIR true, devcontainer.json ${JSON.stringify(dc.config).replace(RUN, 'RUN')}, remote user ${dcUser}; medians: up ${med(dcT.up)} ms, exec ${med(dcT.exec)} ms; ratio is devcontainer ÷ spoon`, dcT.total), sp, { op: '>=', limit: 2.0 });
  if (dc.bin) compare(addRow(c, 'devcontainer (same runs) vs one-command spoon exec', 'the same devcontainer samples, divided by the one-process spoon exec above', dcT.total), sx, { op: '>=', limit: 2.0 }, true);
  if (dc.bin && /control manifest/i.test(diagnostics.devcontainerFirstUpLog?.join('\n') ?? '')) {
    notes.push(`devcontainer: its first up tries to fetch https://containers.dev/static/devcontainer-control-manifest.json (fails offline: "${diagnostics.devcontainerFirstUpLog.find((l) => /control manifest/i.test(l))?.replace(/^\[[^\]]*\] /, '')}") and caches the answer for 5 minutes under $TMPDIR/devcontainercli-$USER; the uncounted warm-up run primes that cache, and ${dcManifestFetches} of the ${SLOW_RUNS} counted runs fetched it again`);
  }
  if (dcUser === 'root') notes.push('devcontainer: the image runs as root, so the remote user is root and the CLI builds no UID-update image (updateRemoteUserUID did not need to be set)');
}

/**
 * The warm pool: a new env's first command when a member is waiting (pool = 1, filled
 * beforehand, untimed) vs a plain `ssh … true` into a running env, in the same rounds. The
 * refill each claim starts is waited for (untimed) before the next sample of either.
 */
async function casePool() {
  const env = { ...SPOON_ENV, SPOON_POOL: '1', SPOON_LABELS: LABEL };
  const ports = JSON.parse((await spoon(['ports', R, '--json'])).stdout);
  const base = { port: ports.ssh.port, key: join(STATE_ROOT, 'id_ed25519'), knownHosts: join(STATE_ROOT, 'envs', R, 'known_hosts'), alias: `spoon-${R}` };
  const sshDefault = [...sshArgs(base), `dev@${ports.ssh.host}`, 'true'];
  const fill = () => spoon(['pool', 'fill'], { env, timeoutMs: 5 * 60_000 });
  const claim = async (name, verbose) => {
    await fill();
    const r = await spoon([...(verbose ? ['-v'] : []), 'exec', name, '--', 'true'], { env });
    // Every sample must be a claim, not a create (a member that was not ready would make it one).
    const member = (await docker(['inspect', `spoon-${name}`, '--format', '{{index .Config.Labels "dev.spoon.pool"}}'])).stdout.trim();
    if (!member || member === '<no value>') throw new Error(`spoon exec ${name} did not claim a pool member`);
    await fill();
    await spoon(['destroy', name, '-f', '--volumes'], { env });
    return r;
  };
  const d = await claim(envName('pd'), true);
  diagnostics.poolSpoonPhases = phaseLine(d.stderr);
  const s = await interleaved(
    [
      { key: 'spoon', fn: async (i) => (await claim(envName(i < 0 ? 'pw' : `p${i}`), false)).ms },
      { key: 'ssh', fn: async () => (await run('ssh', sshDefault, { env: SPOON_ENV })).ms },
    ],
    SLOW_RUNS,
  );
  await spoon(['pool', 'drain'], { env });
  const c = 'pool';
  const ssh = addRow(c, 'ssh (OpenSSH default kex)', 'plain `ssh -p PORT -i KEY dev@127.0.0.1 true` into a running env, new connection each time', s.ssh);
  compare(
    addRow(c, 'spoon exec NEW -- true (claimed from the pool)', `a new env's first command with pool = 1 filled: spoon exec NEW -- true claims the waiting member (rename, pin, volume record), connects and runs true; the refill it starts is waited for between samples, untimed; phases of one more claim: ${diagnostics.poolSpoonPhases}`, s.spoon),
    ssh,
    { op: '<=', limit: 1.5 },
  );
}

async function caseWarm() {
  const W = envName('w');
  const FW = envName('floor-w');
  await spoon(upArgs(W));
  await floorCold(FW);
  const floorT = { start: [], port: [], ssh: [], tries: [] };
  const s = await interleaved(
    [
      {
        key: 'spoon',
        fn: async () => {
          await spoon(['stop', W]);
          return (await spoon(['exec', W, '--', 'true'])).ms;
        },
      },
      {
        key: 'floor',
        fn: async (i) => {
          await docker(['stop', FW]);
          const t0 = performance.now();
          const st = await docker(['start', FW]);
          const p = await dockerSshPort(FW);
          const t1 = performance.now();
          const tries = await sshUntilOk(floorSshArgs(p.port));
          const t2 = performance.now();
          if (i >= 0) record(floorT, { start: st.ms, port: p.ms, ssh: t2 - t1, tries });
          return t2 - t0;
        },
      },
    ],
    SLOW_RUNS,
    0,
  );
  await spoon(['stop', W]);
  diagnostics.warmSpoonPhases = phaseLine((await spoon(['-v', 'exec', W, '--', 'true'])).stderr);
  await spoon(['destroy', W, '-f', '--volumes']);
  await docker(['rm', '-f', FW]);

  const med = (xs) => Math.round(stats(xs).median);
  const c = 'warm';
  const fl = addRow(c, 'floor: docker start + ssh retry', `stopped floor container (made as in cold) -> docker start + docker port + ssh retried until \`true\` runs; medians: docker start ${med(floorT.start)} ms, docker port ${med(floorT.port)} ms, ssh until ok ${med(floorT.ssh)} ms in ${med(floorT.tries)} tries`, s.floor);
  compare(addRow(c, 'spoon exec NAME -- true (env stopped)', `spoon stop NAME (untimed, closes the ControlMaster), then spoon exec NAME -- true: cached endpoint fails, engine start, wait for sshd, new ControlMaster, command; phases of one extra run: ${diagnostics.warmSpoonPhases}`, s.spoon), fl);
}

async function caseStartup() {
  const envs = await visibleEnvs();
  const s = await interleaved(
    [
      { key: 'node', fn: async () => (await run(NODE, ['-e', '0'])).ms },
      { key: 'version', fn: async () => (await spoon(['--version'])).ms },
      { key: 'list', fn: async () => (await spoon(['list'])).ms },
      ...(dc.bin ? [{ key: 'dc', fn: async () => (await devcontainer(['--version'])).ms }] : []),
    ],
    FAST_RUNS,
  );
  const c = 'startup';
  const node = addRow(c, 'node -e 0', 'an empty node process (same node binary)', s.node);
  compare(addRow(c, 'spoon --version', 'node dist/spoon.js --version (fast path in bin.ts, nothing else loaded)', s.version), node, { op: '<=', limit: 1.5 });
  compare(addRow(c, 'spoon list', `node dist/spoon.js list with ${envs} env(s) visible on the engine (GET /_ping + one container list request)`, s.list), node);
  if (dc.bin) compare(addRow(c, 'devcontainer --version', `the devcontainer CLI's own startup, for scale (node ${dc.bin.replace(ROOT + '/', '')} --version)`, s.dc), node);
}

async function caseScale() {
  const c = 'scale';
  const listRows = [];
  let have = 1; // R
  for (const want of SCALE) {
    const names = [];
    for (let i = have; i < want; i++) names.push(envName(`s${i}`));
    await inBatches(names, BATCH, (n) => spoon(upArgs(n)));
    have = want;
    const visible = await visibleEnvs();
    const s = await interleaved([{ key: 'list', fn: async () => (await spoon(['list'])).ms }], FAST_RUNS);
    listRows.push(addRow(c, `spoon list, ${want} bench env(s)`, `spoon list with ${want} running bench env(s) (${visible} env(s) visible on the engine, including other users')`, s.list));
  }
  for (const r of listRows.slice(1)) compare(r, listRows[0], r === listRows[listRows.length - 1] ? { op: '<', limit: 2.0 } : undefined);

  // Peak RSS.
  const visible = await visibleEnvs();
  await spoon(['exec', R, '--', 'true']); // the master is warm
  const rssExec = await peakRss([SPOON, 'exec', R, '--', 'true']);
  const rssList = await peakRss([SPOON, 'list']);
  const rssNode = await peakRss(['-e', '0']);
  const how = rssMethod();
  const node = addRow(c, 'peak RSS: node -e 0', `peak resident memory of an empty node process (${how})`, rssNode, 'MB');
  compare(addRow(c, 'peak RSS: spoon exec', `peak resident memory of spoon exec NAME -- true, ControlMaster warm (${how})`, rssExec, 'MB'), node);
  compare(addRow(c, 'peak RSS: spoon list', `peak resident memory of spoon list with ${visible} env(s) visible (${how})`, rssList, 'MB'), node);
}

const TIME_BIN = '/usr/bin/time';
const rssMethod = () => (existsSync(TIME_BIN) ? `${TIME_BIN} -f %M, ${RSS_RUNS} runs` : `VmHWM polled every 2 ms, ${RSS_RUNS} runs`);

/** Peak RSS in MB of `node ARGS`, RSS_RUNS times. */
async function peakRss(args) {
  const out = [];
  for (let i = 0; i < RSS_RUNS; i++) {
    if (existsSync(TIME_BIN)) {
      const file = join(TMP, 'rss.txt');
      await run(TIME_BIN, ['-f', '%M', '-o', file, NODE, ...args], { env: SPOON_ENV, cwd: HOME });
      out.push(Number(readFileSync(file, 'utf8').trim().split('\n').pop()) / 1024);
    } else {
      out.push((await pollHwm(args)) / 1024);
    }
  }
  return out;
}

function pollHwm(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { env: SPOON_ENV, cwd: HOME, stdio: 'ignore' });
    children.add(child);
    let max = 0;
    const poll = () => {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        max = Math.max(max, kb);
      } catch {
        // gone
      }
    };
    const timer = setInterval(poll, 2);
    child.on('error', reject);
    child.on('exit', () => {
      clearInterval(timer);
      children.delete(child);
      resolve(max);
    });
  });
}

async function caseDestroy() {
  // spoon envs: running ones from the scale case when there are enough, else new ones.
  const names = [];
  for (let i = 1; i <= SLOW_RUNS; i++) names.push(envName(`s${i}`));
  const existing = new Set(JSON.parse((await spoon(['list', '--json'])).stdout).map((e) => e.name));
  await inBatches(names.filter((n) => !existing.has(n)), BATCH, (n) => spoon(upArgs(n)));
  const floors = names.map((_, i) => envName(`floor-d${i}`));
  for (const f of floors) await floorCold(f); // running and answering ssh
  const s = await interleaved(
    [
      { key: 'spoon', fn: async (i) => (await spoon(['destroy', names[i], '-f'])).ms },
      { key: 'docker', fn: async (i) => (await docker(['rm', '-f', floors[i]])).ms },
    ],
    SLOW_RUNS,
    0,
  );
  const c = 'destroy';
  const d = addRow(c, 'docker rm -f C', 'docker rm -f on a running floor container (sshd answering)', s.docker);
  compare(addRow(c, 'spoon destroy NAME -f', 'spoon destroy NAME -f on a running env with its ControlMaster up (closes the master, removes the container, keeps the home volume)', s.spoon), d);
}

// ---------------------------------------------------------------- machine facts

function engineVersion() {
  const host = process.env.DOCKER_HOST;
  const socketPath = !host ? '/var/run/docker.sock' : host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
  if (!socketPath) {
    return docker(['version', '--format', '{{json .Server}}']).then((r) => JSON.parse(r.stdout), () => null);
  }
  return new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/version', method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** Other work on the machine and engine while the bench ran (other users' containers make it noisier). */
const load = {};
async function loadFacts() {
  const count = async (args) => (await docker(args)).stdout.split('\n').filter(Boolean).length;
  const running = await count(['ps', '-q']);
  const ours = await count(['ps', '-q', '--filter', `label=${LABEL}`]);
  return { loadavg1m: os.loadavg()[0], otherRunningContainers: running - ours };
}

async function machineFacts() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const v = await engineVersion();
  const sshV = await run('ssh', ['-V'], { check: false });
  let commit = null;
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    node: process.version,
    ssh: (sshV.stderr || sshV.stdout).trim(),
    engine: v ? { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, kernel: v.KernelVersion } : null,
    spoon: (await spoon(['--version'])).stdout.trim(),
    spoonBin: SPOON,
    repoCommit: SPOON === join(ROOT, 'dist', 'spoon.js') ? commit : null,
    devcontainerCli: dc.version ?? null,
  };
}

// ---------------------------------------------------------------- output

function fmt(x, unit) {
  return unit === 'MB' ? x.toFixed(1) : x.toFixed(0);
}

function printTable() {
  const header = ['case', 'subject', 'median', 'min', 'max', 'unit', 'ratio', 'vs', 'target', 'met'];
  const body = rows.map((r) => [
    r.case, r.subject, fmt(r.median, r.unit), fmt(r.min, r.unit), fmt(r.max, r.unit), r.unit,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`, r.baseline ?? '(baseline)', r.target ?? '-', r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([2, 3, 4, 6]);
  const line = (cells) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  process.stdout.write(`\n${out.join('\n')}\n\nWhat each row measured:\n`);
  for (const r of rows) process.stdout.write(`- [${r.case}] ${r.subject}: ${r.what}\n`);
  if (notes.length) process.stdout.write(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
}

// ---------------------------------------------------------------- cleanup

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (err) {
    process.stderr.write(`bench: cleanup: ${cmd} ${args.join(' ')}: ${String(err.stderr || err.message).trim()}\n`);
    return '';
  }
}

/** Removes everything this run made. Synchronous, so it also works from an exit handler. */
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  // spoon's ControlMasters (ssh -f daemons) for this run's state dir.
  const cm = join(STATE_ROOT, 'cm');
  if (existsSync(cm)) for (const sock of readdirSync(cm)) sh('ssh', ['-F', 'none', '-S', join(cm, sock), '-O', 'exit', 'bench']);
  const ids = new Set();
  for (const filter of [`label=${LABEL}`, `label=devcontainer.local_folder=${DC_WORKSPACE}`]) {
    for (const id of sh('docker', ['ps', '-aq', '--filter', filter]).split(/\s+/)) if (id) ids.add(id);
  }
  // By name too, in case a label never made it (every name this run uses contains the run id).
  for (const line of sh('docker', ['ps', '-a', '--filter', `name=${RUN}-`, '--format', '{{.ID}} {{.Names}}']).split('\n')) {
    const [id, name] = line.split(' ');
    if (id && (name.startsWith(`spoon-${RUN}-`) || name.startsWith(`${RUN}-`))) ids.add(id);
  }
  if (ids.size) sh('docker', ['rm', '-f', '-v', ...ids]);
  const vols = new Set();
  for (const v of sh('docker', ['volume', 'ls', '-q', '--filter', `label=${LABEL}`]).split(/\s+/)) if (v) vols.add(v);
  for (const v of sh('docker', ['volume', 'ls', '-q', '--filter', `name=spoon-${RUN}-`]).split(/\s+/)) if (v.startsWith(`spoon-${RUN}-`)) vols.add(v);
  if (vols.size) sh('docker', ['volume', 'rm', '-f', ...vols]);
  rmSync(TMP, { recursive: true, force: true });
}

async function onSignal(sig) {
  if (aborting) return;
  aborting = true;
  process.stderr.write(`\nbench: ${sig}: stopping and cleaning up\n`);
  for (const c of children) c.kill('SIGTERM');
  const deadline = Date.now() + 3000;
  while (children.size && Date.now() < deadline) await sleep(50);
  for (const c of children) c.kill('SIGKILL');
  cleanup();
  process.exit(130);
}

process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('exit', () => cleanup());

// ---------------------------------------------------------------- main

const CASES = [
  ['startup', caseStartup],
  ['reattach', caseReattach],
  ['cold', caseCold],
  ['warm', caseWarm],
  ['pool', casePool],
  ['scale', caseScale],
  ['destroy', caseDestroy],
];

async function main() {
  if (!existsSync(SPOON)) throw new Error(`${SPOON} is missing; run npm run build first`);
  process.stderr.write(`bench: run ${RUN}, temp dir ${TMP}\n`);
  load.start = await loadFacts();
  await setup();
  for (const [name, fn] of CASES) {
    if (ONLY && !ONLY.includes(name)) continue;
    const t0 = performance.now();
    process.stderr.write(`bench: ${name} ...`);
    try {
      await fn();
      process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      if (aborting) return;
      process.stderr.write(` FAILED\nbench: ${name}: ${err.message}\n`);
      failures.push({ case: name, error: err.message });
    }
  }
}

let fatal;
try {
  await main();
} catch (err) {
  fatal = err;
}
if (!aborting) {
  load.end = await loadFacts().catch(() => null);
  const machine = await machineFacts().catch((err) => ({ error: err.message }));
  machine.load = load;
  process.stderr.write('bench: cleaning up\n');
  cleanup();
  const elapsedMs = performance.now() - started;
  if (rows.length) printTable();
  if (load.start && load.end) {
    process.stdout.write(`\nmachine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.totalMemoryMB} MB, node ${machine.node}, ${machine.ssh}, engine ${machine.engine?.version ?? '?'} (API ${machine.engine?.apiVersion ?? '?'})\n`);
    process.stdout.write(`load: 1-min load average ${load.start.loadavg1m.toFixed(2)} at start, ${load.end.loadavg1m.toFixed(2)} at end; other running containers on the engine: ${load.start.otherRunningContainers} at start, ${load.end.otherRunningContainers} at end\n`);
  }
  if (fatal) process.stderr.write(`bench: setup failed: ${fatal.message}\n`);
  for (const f of failures) process.stderr.write(`bench: case ${f.case} failed: ${f.error}\n`);
  const result = {
    timestamp: new Date().toISOString(),
    runId: RUN,
    elapsedMs: Math.round(elapsedMs),
    settings: { fastRuns: FAST_RUNS, slowRuns: SLOW_RUNS, warmupRuns: 1, scale: SCALE, quick: QUICK, only: ONLY ?? null },
    machine,
    rows: rows.map((r) => ({ ...r, median: round1(r.median), min: round1(r.min), max: round1(r.max), ratio: r.ratio === null ? null : Math.round(r.ratio * 1000) / 1000 })),
    notes,
    diagnostics,
    failures: fatal ? [{ case: 'setup', error: fatal.message }, ...failures] : failures,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\ntotal bench time: ${(elapsedMs / 1000).toFixed(1)} s; results in bench/results/latest.json\n`);
  process.exitCode = fatal || failures.length ? 1 : 0;
}
