/**
 * The configuration schema (SPEC "Configuration"): every key's parser, fed both
 * the typed values a TOML file gives and the strings of flags and SPOON_<KEY>
 * variables, and the built-in defaults.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KEYS,
  KEY_NAMES,
  defaultOptions,
  isKeyName,
  parseCopySpec,
  parseForwardSpec,
  parseKey,
  formatDuration,
  parseDuration,
  parseMemory,
  parsePortSpec,
  parseVolumeSpec,
  type EnvOptions,
  type KeyName,
  type ValueSite,
} from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';

// ---- fixtures: a project folder (TMP) and a home (TMPHOME) with a few real paths ----

const TMP = mkdtempSync(join(tmpdir(), 'spoon-config-schema-'));
const TMPHOME = join(TMP, 'home');
const EXISTING = join(TMP, 'existing');
mkdirSync(EXISTING);
mkdirSync(join(TMP, 'data'));
mkdirSync(join(TMP, 'keys'));
mkdirSync(join(TMPHOME, '.ssh'), { recursive: true });
writeFileSync(join(TMPHOME, '.ssh', 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHome me@home\n');
writeFileSync(join(TMP, 'keys', 'garbage.pub'), 'not a key\n');
writeFileSync(join(TMP, 'keys', 'id_private'), '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
writeFileSync(join(TMP, 'keys', 'extra.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExtra extra@host\n');

after(() => rmSync(TMP, { recursive: true, force: true }));

const where = (key: string): string => `spoon.toml:3: ${key}`;
const siteFor = (key: string): ValueSite => ({ where: where(key), baseDir: TMP, home: TMPHOME });

/** Test titles without the random temp folder names. */
function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.split(TMPHOME).join('$HOME').split(TMP).join('$TMP');
}

/** Asserts fn throws a UsageError (exit 2) whose message starts with `whereText: ` and contains every one of `parts`. */
function assertUsageError(fn: () => unknown, whereText: string, parts: string[], hintParts: string[] = []): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.startsWith(`${whereText}: `), `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(`${whereText}: `)}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(p)}`);
    for (const p of hintParts) assert.ok(err.hint?.includes(p), `hint ${JSON.stringify(err.hint)} should contain ${JSON.stringify(p)}`);
    return true;
  });
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const tcp = (container: number, host?: number) => ({ container, host, protocol: 'tcp' as const });
const udp = (container: number, host?: number) => ({ container, host, protocol: 'udp' as const });
const fwd = (localPort: number, remotePort: number) => ({ localPort, remotePort, bindAddress: '127.0.0.1' });
const bind = (source: string, target: string, readOnly = false) => ({ type: 'bind' as const, source, target, readOnly });
const vol = (source: string, target: string, readOnly = false) => ({ type: 'volume' as const, source, target, readOnly });

// ---- accepted values: [key, input, parsed] ----

const valid: [KeyName, unknown, unknown][] = [
  // image, shell, command: a string; '' means "unset" (spoon's default)
  ['image', 'alpine:3', 'alpine:3'],
  ['image', 'ghcr.io/acme/dev@sha256:abc', 'ghcr.io/acme/dev@sha256:abc'],
  ['image', '', undefined],
  ['shell', '/bin/zsh', '/bin/zsh'],
  ['shell', '', undefined],
  ['command', 'tmux new-session -A -s work', 'tmux new-session -A -s work'],
  ['command', '', undefined],

  // builddir: host path, relative to the layer's folder, ~ is the home
  ['builddir', './ctx', join(TMP, 'ctx')],
  ['builddir', 'ctx', join(TMP, 'ctx')],
  ['builddir', '.', TMP],
  ['builddir', '/abs/ctx', '/abs/ctx'],
  ['builddir', '~/proj', join(TMPHOME, 'proj')],
  ['builddir', '~', TMPHOME],
  ['builddir', '', undefined],

  // prebuild, run_on_create: lists of commands
  ['prebuild', ['make', 'make test'], ['make', 'make test']],
  ['prebuild', 'make', ['make']],
  ['prebuild', 'make,make test', ['make', 'make test']],
  ['prebuild', [], []],
  ['run_on_create', ['npm ci', 'git config --global pull.rebase true'], ['npm ci', 'git config --global pull.rebase true']],
  ['run_on_create', 'npm ci', ['npm ci']],
  ['run_on_create', '', []],

  // user
  ['user', 'dev', 'dev'],
  ['user', 'alice', 'alice'],
  ['user', '_svc', '_svc'],
  ['user', 'a-b_1', 'a-b_1'],
  ['user', 'a'.repeat(32), 'a'.repeat(32)],

  // session
  ['session', 'pair', 'pair'],
  ['session', 'work-2', 'work-2'],
  ['session', 'A_b', 'A_b'],

  // listen
  ['listen', '127.0.0.1', '127.0.0.1'],
  ['listen', '0.0.0.0', '0.0.0.0'],
  ['listen', '192.168.1.10', '192.168.1.10'],
  ['listen', '::', '::'],
  ['listen', '::1', '::1'],

  // ports: TOML numbers and strings, or a comma-separated flag/env string
  ['ports', [3000], [tcp(3000)]],
  ['ports', ['3000'], [tcp(3000)]],
  ['ports', ['8080:80'], [tcp(80, 8080)]],
  ['ports', ['53/udp'], [udp(53)]],
  ['ports', ['5353:53/udp'], [udp(53, 5353)]],
  ['ports', ['443/tcp'], [tcp(443)]],
  ['ports', [1, 65535], [tcp(1), tcp(65535)]],
  ['ports', [3000, '8080:80', '53/udp'], [tcp(3000), tcp(80, 8080), udp(53)]],
  ['ports', '3000', [tcp(3000)]],
  ['ports', '3000,8080:80', [tcp(3000), tcp(80, 8080)]],
  ['ports', ' 3000 , 8080:80 ', [tcp(3000), tcp(80, 8080)]],
  ['ports', '', []],
  ['ports', [], []],

  // forwards
  ['forwards', [3000], [fwd(3000, 3000)]],
  ['forwards', ['8080:80'], [fwd(8080, 80)]],
  ['forwards', ['1:65535'], [fwd(1, 65535)]],
  ['forwards', '3000,8080:80', [fwd(3000, 3000), fwd(8080, 80)]],
  ['forwards', '', []],

  // copy: docker-spoon's home-relative strings, or {from, to, mode?}
  ['copy', ['~/.gitconfig'], [{ from: join(TMPHOME, '.gitconfig'), to: '~/.gitconfig', mode: undefined }]],
  ['copy', ['.gitconfig'], [{ from: join(TMPHOME, '.gitconfig'), to: '~/.gitconfig', mode: undefined }]],
  ['copy', ['~/.config/git/config'], [{ from: join(TMPHOME, '.config/git/config'), to: '~/.config/git/config', mode: undefined }]],
  ['copy', [{ from: '~/.gitconfig', to: '~/.gitconfig', mode: '0600' }], [{ from: join(TMPHOME, '.gitconfig'), to: '~/.gitconfig', mode: 0o600 }]],
  ['copy', [{ from: '~/id', to: '/etc/id', mode: '644' }], [{ from: join(TMPHOME, 'id'), to: '/etc/id', mode: 0o644 }]],
  ['copy', [{ from: '~/run.sh', to: '~/bin/run.sh', mode: '0755' }], [{ from: join(TMPHOME, 'run.sh'), to: '~/bin/run.sh', mode: 0o755 }]],
  ['copy', [{ from: '~/x', to: '/x', mode: '1777' }], [{ from: join(TMPHOME, 'x'), to: '/x', mode: 0o1777 }]],
  // TOML's octal integer 0o600 arrives as the number 384
  ['copy', [{ from: '~/.netrc', to: '~/.netrc', mode: 0o600 }], [{ from: join(TMPHOME, '.netrc'), to: '~/.netrc', mode: 0o600 }]],
  ['copy', [{ from: './conf/app.ini', to: '/etc/app.ini' }], [{ from: join(TMP, 'conf/app.ini'), to: '/etc/app.ini', mode: undefined }]],
  ['copy', [{ from: '/etc/hosts', to: '~/hosts' }], [{ from: '/etc/hosts', to: '~/hosts', mode: undefined }]],
  ['copy', [{ from: '~/.npmrc' }], [{ from: join(TMPHOME, '.npmrc'), to: '~/.npmrc', mode: undefined }]],
  ['copy', [], []],

  // authorized_keys: key lines kept, file names looked up in ~/.ssh, paths resolved
  ['authorized_keys', ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey me@host'], ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey me@host']],
  ['authorized_keys', ['  ssh-rsa AAAAB3NzaC1yc2E  '], ['ssh-rsa AAAAB3NzaC1yc2E']],
  ['authorized_keys', ['ecdsa-sha2-nistp256 AAAAE2VjZHNh'], ['ecdsa-sha2-nistp256 AAAAE2VjZHNh']],
  ['authorized_keys', ['sk-ssh-ed25519@openssh.com AAAAGnNr'], ['sk-ssh-ed25519@openssh.com AAAAGnNr']],
  ['authorized_keys', ['id_ed25519.pub'], [join(TMPHOME, '.ssh', 'id_ed25519.pub')]],
  ['authorized_keys', 'id_ed25519.pub', [join(TMPHOME, '.ssh', 'id_ed25519.pub')]],
  ['authorized_keys', ['~/.ssh/id_ed25519.pub'], [join(TMPHOME, '.ssh', 'id_ed25519.pub')]],
  ['authorized_keys', ['./keys/extra.pub'], [join(TMP, 'keys', 'extra.pub')]],
  ['authorized_keys', [join(TMP, 'keys', 'extra.pub')], [join(TMP, 'keys', 'extra.pub')]],
  ['authorized_keys', [], []],

  // cpus
  ['cpus', 1.5, 1.5],
  ['cpus', 2, 2],
  ['cpus', '2', 2],
  ['cpus', '0.5', 0.5],
  ['cpus', ' 4 ', 4],
  ['cpus', '', undefined],

  // cpu_shares: 0 means the engine default
  ['cpu_shares', 512, 512],
  ['cpu_shares', '512', 512],
  ['cpu_shares', 1, 1],
  ['cpu_shares', 262144, 262144],
  ['cpu_shares', 0, undefined],
  ['cpu_shares', '0', undefined],
  ['cpu_shares', '', undefined],

  // memory: bytes
  ['memory', '512m', 512 * MiB],
  ['memory', '512M', 512 * MiB],
  ['memory', '512mb', 512 * MiB],
  ['memory', ' 512m ', 512 * MiB],
  ['memory', '2g', 2 * GiB],
  ['memory', '1.5g', 1.5 * GiB],
  ['memory', '50m', 50 * MiB],
  ['memory', '6m', 6 * MiB],
  ['memory', '8192k', 8 * MiB],
  ['memory', 10485760, 10485760],
  ['memory', '10485760', 10485760],
  ['memory', '', undefined],

  // dns
  ['dns', ['8.8.8.8', '2001:4860:4860::8888'], ['8.8.8.8', '2001:4860:4860::8888']],
  ['dns', '1.1.1.1,8.8.8.8', ['1.1.1.1', '8.8.8.8']],
  ['dns', [], []],

  // volumes
  ['volumes', [`${EXISTING}:/ctr`], [bind(EXISTING, '/ctr')]],
  ['volumes', [`${EXISTING}:/ctr:ro`], [bind(EXISTING, '/ctr', true)]],
  ['volumes', [`${EXISTING}:/ctr:rw`], [bind(EXISTING, '/ctr')]],
  ['volumes', ['./data:/ctr'], [bind(join(TMP, 'data'), '/ctr')]],
  ['volumes', ['data/:/ctr'], [bind(join(TMP, 'data'), '/ctr')]],
  ['volumes', ['.:/src'], [bind(TMP, '/src')]],
  ['volumes', ['~:/hosthome:ro'], [bind(TMPHOME, '/hosthome', true)]],
  ['volumes', ['name:/ctr'], [vol('name', '/ctr')]],
  ['volumes', ['cache.v2:/var/cache:ro'], [vol('cache.v2', '/var/cache', true)]],
  ['volumes', ['/ctr'], [vol('', '/ctr')]],
  ['volumes', ['/ctr:ro'], [vol('', '/ctr', true)]],
  ['volumes', `name:/a,/b,${EXISTING}:/c`, [vol('name', '/a'), vol('', '/b'), bind(EXISTING, '/c')]],
  ['volumes', [], []],

  // privileged, forward_agent: booleans, or the words a flag or env var gives
  ['privileged', true, true],
  ['privileged', false, false],
  ['privileged', 'true', true],
  ['privileged', 'TRUE', true],
  ['privileged', '1', true],
  ['privileged', 'yes', true],
  ['privileged', 'on', true],
  ['privileged', 'false', false],
  ['privileged', '0', false],
  ['privileged', 'no', false],
  ['privileged', 'off', false],
  ['forward_agent', true, true],
  ['forward_agent', false, false],
  ['forward_agent', 'true', true],
  ['forward_agent', 'Yes', true],
  ['forward_agent', 'false', false],
  ['forward_agent', 'off', false],

  // env, labels: a table, ["K=V"], or "K=V,K2=V2"
  ['env', { A: '1', B: 'two' }, { A: '1', B: 'two' }],
  ['env', { N: 3, F: true }, { N: '3', F: 'true' }],
  ['env', ['A=1', 'B=x=y'], { A: '1', B: 'x=y' }],
  ['env', 'A=1,B=2', { A: '1', B: '2' }],
  ['env', 'EMPTY=', { EMPTY: '' }],
  ['env', ['A=1', 'A=2'], { A: '2' }],
  ['env', '', {}],
  ['env', {}, {}],
  ['labels', { team: 'web' }, { team: 'web' }],
  ['labels', 'team=web,tier=1', { team: 'web', tier: '1' }],
  ['labels', ['com.example.owner=me', 'a.b/c=1'], { 'com.example.owner': 'me', 'a.b/c': '1' }],
  ['labels', ['spoon.dev=ok'], { 'spoon.dev': 'ok' }],

  // persist: container paths, ~ is the login user's home
  ['persist', '~', ['~']],
  ['persist', ['~'], ['~']],
  ['persist', ['~/work'], ['~/work']],
  ['persist', ['/var/lib/x'], ['/var/lib/x']],
  ['persist', ['/var/lib/x/'], ['/var/lib/x']],
  ['persist', ['~/work//'], ['~/work']],
  ['persist', ['~/'], ['~']],
  ['persist', '~,/data', ['~', '/data']],
  ['persist', [], []],

  // prefix
  ['prefix', 'spoon-', 'spoon-'],
  ['prefix', 'my.team_', 'my.team_'],
  ['prefix', 'x', 'x'],
  ['idle_stop', '2h', 7200],
  ['idle_stop', '1h30m', 5400],
  ['idle_stop', 'off', undefined],
  ['backend', 'swarm', 'swarm'],
  ['backend', 'docker', 'docker'],
  ['node', 'm0gwj0zxlks8', 'm0gwj0zxlks8'],
  ['node', 'zone=b', 'zone=b'],
  ['pool', '2', 2],
  ['pool', 0, 0],
];

// ---- rejected values: [key, input, parts the message must contain after `where: `, parts of the hint] ----

const invalid: [KeyName, unknown, string[], string[]?][] = [
  ['pool', '-1', ['pool must be a whole number from 0 to 20']],
  ['pool', 1.5, ['pool must be a whole number from 0 to 20']],
  ['env', { '1A': 'x' }, ["invalid variable name '1A'"]],
  ['env', ['MY-VAR=1'], ["invalid variable name 'MY-VAR'"]],
  ['authorized_keys', ['ssh-ed25519'], ['is not an OpenSSH public key line']],
  ['authorized_keys', ['ssh-ed25519 not*base64'], ['is not an OpenSSH public key line']],
  ['authorized_keys', [join(TMP, 'keys', 'garbage.pub')], ['holds no OpenSSH public key']],
  ['authorized_keys', [join(TMP, 'keys', 'id_private')], ['is a private key', 'id_private.pub']],
  ['image', 3, ['expected a string', '3']],
  ['image', true, ['expected a string', 'true']],
  ['image', ['a', 'b'], ['expected a string']],
  ['shell', 1, ['expected a string']],
  ['command', ['tmux', 'attach'], ['expected a string']],
  ['builddir', 5, ['expected a string', '5']],

  ['prebuild', [1], ['expected a string', '1']],
  ['prebuild', { a: 1 }, ['expected a list']],
  ['run_on_create', { cmd: 'x' }, ['expected a list']],
  ['run_on_create', 7, ['expected a list', '7']],

  ['user', 'root', ["'root'"], ['sudo', 'dev']],
  ['user', 'Bad User', ["'Bad User'", 'not a unix user name']],
  ['user', 'Dev', ["'Dev'"]],
  ['user', '1dev', ["'1dev'"]],
  ['user', 'dev;rm', ["'dev;rm'"]],
  ['user', '', ["''"]],
  ['user', 'a'.repeat(33), [`'${'a'.repeat(33)}'`]],
  ['user', 5, ['expected a string', '5']],

  ['session', 'a b', ["'a b'"]],
  ['session', 'a:b', ["'a:b'"]],
  ['session', 'a.b', ["'a.b'"]],
  ['session', '', ["''"]],
  ['session', 'x'.repeat(65), [`'${'x'.repeat(65)}'`]],
  ['session', 1, ['expected a string']],

  ['listen', 'localhost', ["'localhost'", 'not an IP address'], ['127.0.0.1', '0.0.0.0']],
  ['listen', 'example.com', ["'example.com'"]],
  ['listen', '256.0.0.1', ["'256.0.0.1'"]],
  ['listen', '1.2.3', ["'1.2.3'"]],
  ['listen', '127.0.0.1:80', ["'127.0.0.1:80'"]],
  ['listen', '', ["''"]],

  ['ports', [0], ["'0'", 'outside 1-65535']],
  ['ports', [70000], ["'70000'", 'outside 1-65535']],
  ['ports', ['65536'], ["'65536'"]],
  ['ports', ['x'], ["'x'"]],
  ['ports', '3000,x', ["'x'"]],
  ['ports', '3000,,80', ["''"]],
  ['ports', ['0:80'], ["'0:80'"]],
  ['ports', ['8080:0'], ["'8080:0'"]],
  ['ports', [':80'], ["':80'"]],
  ['ports', ['8080:'], ["'8080:'"]],
  ['ports', ['1:2:3'], ["'1:2:3'"]],
  ['ports', ['80/sctp'], ["'80/sctp'"]],
  ['ports', ['3000/'], ["'3000/'"]],
  ['ports', ['-1'], ["'-1'"]],
  ['ports', [-1], ["'-1'"]],
  ['ports', [3000.5], ["'3000.5'"]],
  ['ports', ['host:80'], ["'host:80'"]],
  ['ports', [true], ['expected a string', 'true']],
  ['ports', 3000, ['expected a list', '3000']],
  ['ports', { a: 1 }, ['expected a list']],

  ['forwards', ['53/udp'], ["'53/udp'"]],
  ['forwards', [0], ["'0'"]],
  ['forwards', [70000], ["'70000'"]],
  ['forwards', ['x'], ["'x'"]],
  ['forwards', ['host:80'], ["'host:80'"]],
  ['forwards', ['0:80'], ["'0:80'"]],
  ['forwards', ['1:2:3'], ["'1:2:3'"]],
  ['forwards', '3000,abc', ["'abc'"]],

  ['copy', '~/.gitconfig', ['config file']],
  ['copy', '', ['config file']],
  ['copy', { from: '~/a', to: '~/a' }, ['expected a list']],
  ['copy', ['~'], ["'~'", 'under the home']],
  ['copy', ['~/'], ["'~/'"]],
  ['copy', [42], ['expected {from, to, mode?}', '42']],
  ['copy', [null], ['expected {from, to, mode?}', 'null']],
  ['copy', [['~/a']], ['expected {from, to, mode?}']],
  ['copy', [{ from: '~/a', to: '~/a', owner: 'me' }], ["unknown key 'owner'"]],
  ['copy', [{ src: '~/a' }], ["unknown key 'src'"]],
  ['copy', [{ from: '~/a', to: '~/a', mode: 'rw' }], ["'rw'", 'copy mode']],
  ['copy', [{ from: '~/a', to: '~/a', mode: '0999' }], ["'0999'", 'copy mode']],
  ['copy', [{ from: '~/a', to: '~/a', mode: '12' }], ["'12'", 'copy mode']],
  ['copy', [{ from: '~/a', to: '~/a', mode: 'u+x' }], ["'u+x'", 'copy mode']],
  ['copy', [{ from: '~/a', to: '~/a', mode: true }], ['true']],
  ['copy', [{ from: '~/a', to: 'etc/a' }], ["'etc/a'", 'copy destination']],
  ['copy', [{ from: './a' }], ["'./a'", 'copy destination']],

  ['authorized_keys', ['missing.pub'], [join(TMPHOME, '.ssh', 'missing.pub'), 'does not exist']],
  ['authorized_keys', ['/no/such/key.pub'], ['/no/such/key.pub', 'does not exist']],
  ['authorized_keys', ['./keys/nope.pub'], [join(TMP, 'keys', 'nope.pub')]],
  ['authorized_keys', [7], ['expected a string', '7']],
  ['authorized_keys', 7, ['expected a list']],

  ['cpus', 0, ['invalid value 0', 'more than 0']],
  ['cpus', -1, ['invalid value -1']],
  ['cpus', '0', ["invalid value '0'"]],
  ['cpus', 'x', ['expected a number', "'x'"]],
  ['cpus', ' ', ['expected a number']],
  ['cpus', 'Infinity', ["'Infinity'"]],
  ['cpus', true, ['expected a number', 'true']],

  ['cpu_shares', 1.5, ['invalid value 1.5', '0 to 262144']],
  ['cpu_shares', 300000, ['invalid value 300000']],
  ['cpu_shares', 262145, ['invalid value 262145']],
  ['cpu_shares', -1, ['invalid value -1']],
  ['cpu_shares', '2.5', ["invalid value '2.5'"]],
  ['cpu_shares', 'x', ['expected a number', "'x'"]],

  ['memory', '5m', ["'5m'", 'at least 6m']],
  ['memory', '1024k', ["'1024k'", 'at least 6m']], // 1 MiB
  ['memory', '-5m', ["'-5m'"]],
  ['memory', 'lots', ["'lots'", '512m']],
  ['memory', '5x', ["'5x'"]],
  ['memory', 'm', ["'m'"]],
  ['memory', '1.2.3g', ["'1.2.3g'"]],
  ['memory', 0, ["'0'"]],
  ['memory', 512, ["'512'", 'at least 6m']],
  ['memory', 6 * MiB - 1, [`'${6 * MiB - 1}'`]],
  ['memory', true, ['expected a string', 'true']],

  ['dns', ['dns.google'], ["'dns.google'", 'not an IP address']],
  ['dns', '8.8.8.8,example.com', ["'example.com'"]],
  ['dns', ['8.8.8.8:53'], ["'8.8.8.8:53'"]],
  ['dns', [8], ['expected a string', '8']],

  ['volumes', ['/no/such/path:/ctr'], ["'/no/such/path:/ctr'", '/no/such/path does not exist']],
  ['volumes', ['./missing:/ctr'], ["'./missing:/ctr'", `${join(TMP, 'missing')} does not exist`]],
  ['volumes', [`${EXISTING}:ctr`], ["the container path 'ctr' must be absolute"]],
  ['volumes', ['name:ctr'], ["'name:ctr'", 'must be absolute']],
  ['volumes', ['ctr'], ["'ctr'", 'must be absolute']],
  ['volumes', ['x:/c:rx'], ["'x:/c:rx'", 'ro or rw']],
  ['volumes', [`${EXISTING}:/c:`], ['ro or rw']],
  ['volumes', ['a:/b:/c:ro'], ["'a:/b:/c:ro'"]],
  ['volumes', [42], ['expected a string', '42']],

  ['privileged', 'yes please', ["'yes please'", 'true or false']],
  ['privileged', 'maybe', ["'maybe'"]],
  ['privileged', '', ["''"]],
  ['privileged', 1, ['expected true or false', '1']],
  ['forward_agent', 'yes please', ["'yes please'"]],
  ['forward_agent', 'enabled', ["'enabled'"]],
  ['forward_agent', [true], ['expected true or false']],

  ['env', 'novalue', ["'novalue'", 'KEY=VALUE']],
  ['env', ['A=1', 'novalue'], ["'novalue'"]],
  ['env', '=v', ["'=v'"]],
  ['env', 'A=1,2', ["'2'"]],
  ['env', { A: { nested: '1' } }, ['A: expected a string']],
  ['env', { A: ['x'] }, ['A: expected a string']],
  ['env', 42, ['expected a list']],
  ['labels', 'novalue', ["'novalue'"]],
  ['labels', 'dev.spoon.x=1', ["'dev.spoon.x'", 'dev.spoon.*']],
  ['labels', ['ok=1', 'dev.spoon.name=evil'], ["'dev.spoon.name'"]],
  ['labels', { 'dev.spoon.managed': 'true' }, ["'dev.spoon.managed'"]],

  ['persist', ['relative'], ["'relative'"]],
  ['persist', 'work', ["'work'"]],
  ['persist', ['~foo'], ["'~foo'"]],
  ['persist', ['/'], ["'/'"]],
  ['persist', ['~', '/'], ["'/'"]],
  ['persist', [3], ['expected a string', '3']],

  ['prefix', '-x', ["'-x'"]],
  ['prefix', '', ["''"]],
  ['prefix', 'a b', ["'a b'"]],
  ['prefix', 'a/b', ["'a/b'"]],
  ['prefix', 'x'.repeat(32), [`'${'x'.repeat(32)}'`]],
  ['prefix', 1, ['expected a string']],
  ['idle_stop', '2 hours', ['invalid duration', "'2 hours'"]],
  ['idle_stop', 90, ['invalid duration', '90']],
  ['backend', 'kubernetes', ["'kubernetes'", 'docker or swarm']],
  ['node', 'a b', ["'a b'"]],
];

describe('parseKey accepts', () => {
  for (const [key, input, expected] of valid) {
    test(`${key} = ${show(input)} → ${show(expected)}`, () => {
      assert.deepEqual(parseKey(key, input, siteFor(key)), expected);
    });
  }

  test('every key has at least one accepted-value case above', () => {
    const covered = new Set(valid.map(([key]) => key));
    assert.deepEqual(KEY_NAMES.filter((k) => !covered.has(k)), []);
  });
});

describe('parseKey rejects', () => {
  for (const [key, input, parts, hint] of invalid) {
    test(`${key} = ${show(input)}`, () => {
      assertUsageError(() => parseKey(key, input, siteFor(key)), where(key), parts, hint);
    });
  }

  test('every key has at least one rejected-value case above', () => {
    const covered = new Set(invalid.map(([key]) => key));
    assert.deepEqual(KEY_NAMES.filter((k) => !covered.has(k)), []);
  });

  test('the where text is used verbatim, whatever the source', () => {
    for (const w of ['--publish', 'SPOON_PORTS', '/p/spoon.toml:12: env.web.ports']) {
      assertUsageError(() => parseKey('ports', 'abc', { where: w, baseDir: TMP, home: TMPHOME }), w, ["'abc'"]);
    }
  });

  test("an error in a copy entry's from/to names the field", () => {
    assertUsageError(() => parseKey('copy', [{ to: '/a' }], siteFor('copy')), `${where('copy')}.from`, ['expected a string']);
    assertUsageError(() => parseKey('copy', [{ from: 42, to: '/a' }], siteFor('copy')), `${where('copy')}.from`, ['expected a string', '42']);
    assertUsageError(() => parseKey('copy', [{ from: '~/a', to: 42 }], siteFor('copy')), `${where('copy')}.to`, ['expected a string', '42']);
  });

  test('the first bad item of a list is the one reported', () => {
    assertUsageError(() => parseKey('ports', ['3000', 'bad1', 'bad2'], siteFor('ports')), where('ports'), ["'bad1'"]);
  });
});

describe('regressions: bugs found and fixed in src/config/schema.ts', () => {
  // `mode = 644` is what people write; TOML has no leading-zero octal, so it arrives as
  // the decimal integer 644, whose octal digits "1204" pass the mode check: the file
  // gets the sticky bit and -w----r--. It should be rejected (hint: "0644" or 0o644)
  // or read as 0o644, never as 0o1204.
  for (const [decimal, meant] of [
    [644, 0o644],
    [600, 0o600],
    [755, 0o755],
  ] as const) {
    test(`copy mode = ${decimal} (a decimal TOML integer) is not taken as 0o${decimal.toString(8)}`, () => {
      let mode: number | undefined;
      try {
        mode = parseKey('copy', [{ from: '~/a', to: '~/a', mode: decimal }], siteFor('copy'))[0]?.mode;
      } catch (err) {
        assert.ok(err instanceof UsageError, String(err));
        assert.ok(err.message.startsWith(`${where('copy')}: `), err.message);
        return;
      }
      assert.equal(mode, meant, `mode = ${decimal} became 0o${(mode ?? 0).toString(8)}`);
    });
  }

  // '/' is refused as a persist path, but '//' (also the root) passes, because the
  // trailing-slash trim turns it into '' and the `|| p` fallback restores '//'.
  test("persist '//' is refused like '/'", () => {
    assertUsageError(() => parseKey('persist', ['//'], siteFor('persist')), where('persist'), ["'//'"]);
  });
});

describe('the exported value parsers', () => {
  const site = siteFor('x');

  test('parsePortSpec and parseForwardSpec take one item, number or string', () => {
    assert.deepEqual(parsePortSpec(3000, site), tcp(3000));
    assert.deepEqual(parsePortSpec(' 8080:80/udp ', site), udp(80, 8080));
    assert.deepEqual(parseForwardSpec(3000, site), fwd(3000, 3000));
    assert.deepEqual(parseForwardSpec('8080:80', site), fwd(8080, 80));
    assertUsageError(() => parsePortSpec('3000,8080', site), 'spoon.toml:3: x', ["'3000,8080'"]);
  });

  test('parseMemory', () => {
    assert.equal(parseMemory('512m', site), 536870912);
    assert.equal(parseMemory('2g', site), 2147483648);
    assert.equal(parseMemory(10485760, site), 10485760);
    assertUsageError(() => parseMemory('lots', site), 'spoon.toml:3: x', ["'lots'"]);
  });

  test('parseDuration reads 30s, 10m, 2h, 1d and combinations; formatDuration writes them back', () => {
    for (const [text, seconds] of [['30s', 30], ['10m', 600], ['2h', 7200], ['1d', 86400], ['1h30m', 5400], ['1d2h3m4s', 93784], [' 2H ', 7200]] as const) {
      assert.equal(parseDuration(text, site), seconds, text);
    }
    assert.equal(parseDuration('off', site), undefined);
    assert.equal(parseDuration('0', site), undefined);
    assert.equal(formatDuration(5400), '1h30m');
    assert.equal(formatDuration(93784), '1d2h3m4s');
    assert.equal(formatDuration(0), '0s');
    for (const bad of ['', '2', '2x', 'h', '30m2h', '1.5h', '-1h', '0s', 3600]) {
      assertUsageError(() => parseDuration(bad, site), 'spoon.toml:3: x', ['invalid duration']);
    }
  });

  test('parseVolumeSpec', () => {
    assert.deepEqual(parseVolumeSpec(`${EXISTING}:/w:ro`, site), bind(EXISTING, '/w', true));
    assert.deepEqual(parseVolumeSpec('/anon', site), vol('', '/anon'));
  });

  test('parseCopySpec', () => {
    assert.deepEqual(parseCopySpec('.ssh/config', site), { from: join(TMPHOME, '.ssh/config'), to: '~/.ssh/config', mode: undefined });
    assert.deepEqual(parseCopySpec({ from: '~/a', to: '/b', mode: '0400' }, site), { from: join(TMPHOME, 'a'), to: '/b', mode: 0o400 });
  });

  test('a bind volume is resolved against baseDir, a copy source against home', () => {
    const other = mkdtempSync(join(TMP, 'other-'));
    mkdirSync(join(other, 'data'));
    const s: ValueSite = { where: 'w', baseDir: other, home: TMPHOME };
    assert.deepEqual(parseVolumeSpec('./data:/d', s), bind(join(other, 'data'), '/d'));
    assert.equal(parseCopySpec('x', s).from, join(TMPHOME, 'x'));
  });
});

describe('the key table', () => {
  test('has exactly the keys SPEC "Configuration" lists', () => {
    const spec = [
      'image', 'builddir', 'prebuild', 'user', 'session', 'listen', 'ports', 'forwards', 'copy', 'authorized_keys', 'run_on_create',
      'cpus', 'cpu_shares', 'memory', 'dns', 'volumes', 'privileged', 'env', 'labels', 'persist', 'forward_agent', 'shell', 'command', 'prefix',
      // issue 14
      'idle_stop',
      // issue 13
      'backend',
      'node',
      'pool',
    ];
    assert.deepEqual([...KEY_NAMES].sort(), [...spec].sort());
  });

  test('every key has a one-line doc', () => {
    for (const key of KEY_NAMES) {
      const doc = KEYS[key].doc;
      assert.ok(doc.trim() !== '' && !doc.includes('\n'), `${key}: ${JSON.stringify(doc)}`);
    }
  });

  test('only session, forwards, forward_agent, shell, command, prebuild, backend and pool do not affect creation', () => {
    assert.deepEqual(KEY_NAMES.filter((k) => !KEYS[k].creation).sort(), ['backend', 'command', 'forward_agent', 'forwards', 'pool', 'prebuild', 'session', 'shell']);
  });

  const keyNames: [string, boolean][] = [
    ['ports', true],
    ['cpu_shares', true],
    ['forward_agent', true],
    ['cpu-shares', false],
    ['PORTS', false],
    ['publish', false],
    ['', false],
    ['toString', false],
    ['constructor', false],
    ['__proto__', false],
    ['hasOwnProperty', false],
  ];
  for (const [name, known] of keyNames) {
    test(`isKeyName(${JSON.stringify(name)}) is ${known}`, () => {
      assert.equal(isKeyName(name), known);
    });
  }
});

describe('defaultOptions', () => {
  const expected: EnvOptions = {
    image: undefined,
    builddir: undefined,
    prebuild: [],
    user: 'dev',
    session: 'pair',
    listen: '127.0.0.1',
    ports: [],
    forwards: [],
    copy: [],
    authorized_keys: [],
    run_on_create: [],
    cpus: undefined,
    cpu_shares: undefined,
    memory: undefined,
    dns: [],
    volumes: [],
    privileged: false,
    env: {},
    labels: {},
    persist: ['~'],
    forward_agent: false,
    shell: undefined,
    command: undefined,
    prefix: 'spoon-',
    idle_stop: undefined,
    backend: 'docker',
    node: undefined,
    pool: 0,
  };

  test('are the documented defaults', () => {
    assert.deepEqual(defaultOptions(), expected);
  });

  const spot: [KeyName, unknown][] = [
    ['persist', ['~']],
    ['user', 'dev'],
    ['session', 'pair'],
    ['listen', '127.0.0.1'],
    ['prefix', 'spoon-'],
    ['forward_agent', false],
    ['privileged', false],
    ['image', undefined],
  ];
  for (const [key, value] of spot) {
    test(`${key} defaults to ${show(value)}`, () => {
      assert.deepEqual(defaultOptions()[key], value);
      assert.deepEqual(KEYS[key].default, value);
    });
  }

  test('every default passes its own parser (where it has a value)', () => {
    const d = defaultOptions();
    for (const key of KEY_NAMES) {
      if (d[key] === undefined) continue;
      assert.deepEqual(parseKey(key, d[key], siteFor(key)), d[key], key);
    }
  });

  test('returns fresh copies: mutating one does not change the next or the table', () => {
    const a = defaultOptions();
    a.persist.push('/data');
    a.ports.push(tcp(1));
    a.env.X = '1';
    a.labels.y = '2';
    a.dns.push('8.8.8.8');
    a.user = 'alice';
    const b = defaultOptions();
    assert.deepEqual(b, expected);
    assert.notEqual(a.persist, b.persist);
    assert.notEqual(a.env, b.env);
    assert.deepEqual(KEYS.persist.default, ['~']);
    assert.deepEqual(KEYS.env.default, {});
  });
});
