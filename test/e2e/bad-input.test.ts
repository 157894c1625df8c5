/**
 * Bad input and faults: each gets one clear `spoon: ...` line, the right exit
 * code, no stack trace, and leaves nothing behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { api, containersLabelled, inspect, useSandbox, volumeExists, type RunResult } from './harness.js';

const box = useSandbox();

function assertCleanError(r: RunResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  // Progress lines may come first; the error itself is one `spoon: ...` line (plus an optional hint).
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('spoon: '));
  assert.equal(errors.length, 1, `one error line in: ${r.stderr}`);
  assert.match(errors[0] ?? '', pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing on stdout');
}

async function nothingCreated(name: string): Promise<void> {
  assert.equal((await containersLabelled(`dev.spoon.name=${name}`)).length, 0, `no container for ${name}`);
  assert.equal(await inspect(`spoon-${name}`), undefined);
}

/**
 * One table of malformed input: names, flags, config files, environment variables,
 * devcontainer.json, key files and engine URLs. Each case runs in a project folder
 * of its own holding `files`, with `$DIR` in args standing for that folder and `$N`
 * for a valid, unused env name. Each must end with the exit code, one `spoon: ...`
 * line matching `error` (naming the file, line, key or argument), no stack trace,
 * and nothing made: no container, no volume, no state for the name.
 */
interface BadInput {
  what: string;
  args: string[];
  error: RegExp;
  code?: number;
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** A file (in the project folder) that the input tries to make, and must not. */
  absent?: string;
}

const FILE = (name: string) => `\\S*/${name.replace(/\./g, '\\.')}`;
const DEVCONTAINER = '.devcontainer/devcontainer.json';
const dc = (json: string) => ({ [DEVCONTAINER]: json });
const toml = (text: string) => ({ 'spoon.toml': text });

const BAD_INPUT: BadInput[] = [
  // names
  { what: 'a NAME with bad characters', args: ['up', 'Bad_Name!', '-N'], error: /^spoon: invalid environment name 'Bad_Name!': use 1-63 of/ },
  { what: 'a NAME of 64 characters', args: ['up', 'a'.repeat(64), '-N'], error: /^spoon: invalid environment name 'a{64}'/ },
  { what: 'a NAME starting with a dot', args: ['up', '.hidden', '-N'], error: /^spoon: invalid environment name '\.hidden'/ },
  { what: 'a NAME with a space', args: ['up', 'two words', '-N'], error: /^spoon: invalid environment name 'two words'/ },
  { what: 'an empty NAME', args: ['up', '', '-N'], error: /^spoon: invalid environment name ''/ },
  { what: 'a bad NAME to destroy', args: ['destroy', 'Bad!', '-f'], error: /^spoon: invalid environment name 'Bad!'/ },
  { what: 'a bad snapshot TAG', args: ['snapshot', '$N', 'bad tag!'], error: /^spoon: invalid snapshot tag 'bad tag!'/ },
  { what: '--from without a TAG', args: ['up', '$N', '-N', '--from', 'nocolon'], error: /^spoon: invalid snapshot 'nocolon': expected NAME:TAG/ },
  { what: 'a bad guest name', args: ['share', '$N', '--key', '$DIR/guest.pub', '--as', 'Bad Guest'], error: /^spoon: invalid guest name 'Bad Guest'/, files: { 'guest.pub': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuest g@h\n' } },
  // the command line
  { what: 'an unknown flag', args: ['list', '--bogus'], error: /^spoon: unknown option '--bogus'/ },
  { what: 'an unknown flag on up', args: ['up', '$N', '--frobnicate'], error: /^spoon: unknown option '--frobnicate'/ },
  { what: 'a missing NAME', args: ['stop'], error: /^spoon: missing required argument 'NAME'/ },
  { what: 'exec without a command', args: ['exec', '$N'], error: /^spoon: missing required argument 'CMD'/ },
  { what: 'a port out of range', args: ['up', '$N', '-N', '--publish', '70000'], error: /^spoon: --publish: invalid value '70000': port 70000 is outside 1-65535/ },
  { what: 'a port that is not a number', args: ['up', '$N', '-N', '-p', '80:http'], error: /^spoon: --publish: invalid value '80:http': 'http' is not a port number/ },
  { what: 'a malformed forward', args: ['up', '$N', '-N', '-L', 'abc'], error: /^spoon: --forward: invalid value 'abc'/ },
  { what: 'a malformed forward to spoon forward', args: ['forward', '$N', 'notaport'], error: /^spoon: spoon forward: invalid value 'notaport'/ },
  { what: 'the root user', args: ['up', '$N', '-N', '--user', 'root'], error: /^spoon: --user: invalid value 'root': spoon does not log in as root/ },
  { what: 'a user name that is not one', args: ['up', '$N', '-N', '--user', 'Not A User'], error: /^spoon: --user: invalid value 'Not A User': not a unix user name/ },
  { what: 'a listen address that is not an IP', args: ['up', '$N', '-N', '--listen', 'everywhere'], error: /^spoon: --listen: invalid value 'everywhere': not an IP address/ },
  { what: 'a memory size without a unit that parses', args: ['up', '$N', '-N', '--memory', 'lots'], error: /^spoon: --memory: invalid memory 'lots'/ },
  { what: 'cpus that are not a number', args: ['up', '$N', '-N', '--cpus', 'abc'], error: /^spoon: --cpus: expected a number, got 'abc'/ },
  { what: 'negative cpus', args: ['up', '$N', '-N', '--cpus', '-1'], error: /^spoon: --cpus: invalid value '-1': cpus must be more than 0/ },
  { what: 'cpu shares with junk', args: ['up', '$N', '-N', '--cpu-shares', '1.5x'], error: /^spoon: --cpu-shares: expected a number, got '1\.5x'/ },
  { what: 'a volume without a container path', args: ['up', '$N', '-N', '--volume', 'nocolon'], error: /^spoon: --volume: invalid value 'nocolon'/ },
  { what: 'a volume with a relative container path', args: ['up', '$N', '-N', '--volume', '/tmp:relative'], error: /^spoon: --volume: invalid value '\/tmp:relative': the container path 'relative' must be absolute/ },
  { what: 'an env without =', args: ['up', '$N', '-N', '--env', 'NOEQUALS'], error: /^spoon: --env: expected KEY=VALUE, got 'NOEQUALS'/ },
  { what: 'an env name starting with a digit', args: ['up', '$N', '-N', '--env', '1A=b'], error: /^spoon: --env: invalid variable name '1A'/ },
  { what: 'a label without a key', args: ['up', '$N', '-N', '--label', '=x'], error: /^spoon: --label: expected KEY=VALUE, got '=x'/ },
  { what: 'a DNS server that is not an IP', args: ['up', '$N', '-N', '--dns', 'not-an-ip'], error: /^spoon: --dns: invalid DNS server 'not-an-ip'/ },
  { what: 'a relative persist path', args: ['up', '$N', '-N', '--persist', 'relative/path'], error: /^spoon: --persist: invalid persist path 'relative\/path'/ },
  { what: 'a tmux session name with a colon', args: ['up', '$N', '-N', '--session', 'a:b'], error: /^spoon: --session: invalid value 'a:b'/ },
  { what: 'a container prefix with a space', args: ['up', '$N', '-N', '--prefix', 'Bad Prefix'], error: /^spoon: --prefix: invalid value 'Bad Prefix'/ },
  { what: 'attaching without a terminal', args: ['up', '$N'], error: /^spoon: attaching to \S+ needs a terminal/ },
  { what: 'destroy without a terminal or --force', args: ['destroy', '$N'], error: /^spoon: refusing to destroy \S+ without confirmation/ },
  // config files
  { what: 'a TOML syntax error', args: ['up', '$N', '-N'], files: toml('image = "x"\nports = [1,\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:3: invalid TOML`) },
  { what: 'an unknown key, with a suggestion', args: ['up', '$N', '-N'], files: toml('imagee = "x"\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:1: unknown key 'imagee'`) },
  { what: 'a value of the wrong type', args: ['up', '$N', '-N'], files: toml('privileged = "yes please"\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:1: privileged: expected true or false`) },
  { what: 'root as the user, on line 2', args: ['up', '$N', '-N'], files: toml('\nuser = "root"\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:2: user: invalid value 'root'`) },
  { what: 'a bad name in [env.NAME]', args: ['up', '$N', '-N'], files: toml('[env.Bad_Name]\nuser = "x"\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:1: invalid environment name 'Bad_Name' in \\[env\\.Bad_Name\\]`) },
  { what: 'a bad port inside [env.NAME]', args: ['up', '$N', '-N'], files: toml('[env.$N]\nports = ["99999"]\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:2: ports: invalid value '99999'`) },
  { what: '--config naming no file', args: ['--config', '$DIR/missing.toml', 'up', '$N', '-N'], error: /^spoon: --config: no such file: \S*\/missing\.toml/ },
  { what: 'a bad value in the --config file', args: ['--config', '$DIR/x.toml', 'up', '$N', '-N'], files: { 'x.toml': 'memory = "12 parsecs"\n' }, error: new RegExp(`^spoon: ${FILE('x.toml')}:1: memory: invalid memory '12 parsecs'`) },
  { what: 'a bad value in the user config file', args: ['up', '$N', '-N'], files: { 'cfg/spoon/config.toml': 'listen = "nowhere"\n' }, error: new RegExp(`^spoon: ${FILE('cfg/spoon/config.toml')}:1: listen: invalid value 'nowhere'`) },
  // environment variables
  { what: 'a bad SPOON_USER', args: ['up', '$N', '-N'], env: { SPOON_USER: 'Not A User' }, error: /^spoon: SPOON_USER: invalid value 'Not A User'/ },
  { what: 'a bad SPOON_PORTS', args: ['up', '$N', '-N'], env: { SPOON_PORTS: 'abc' }, error: /^spoon: SPOON_PORTS: invalid value 'abc'/ },
  { what: 'a bad SPOON_PRIVILEGED', args: ['up', '$N', '-N'], env: { SPOON_PRIVILEGED: 'maybe' }, error: /^spoon: SPOON_PRIVILEGED: expected true or false, got 'maybe'/ },
  // devcontainer.json
  { what: 'devcontainer.json with a syntax error', args: ['up', '$N', '-N'], files: dc('{\n  "image": "x",\n  "forwardPorts": [1,,]\n}\n'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:3:22: invalid JSON: value expected`) },
  { what: 'devcontainer.json with a bare legacy feature id', args: ['up', '$N', '-N'], files: dc('{ "image": "x", "features": { "node": {} } }'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:1:31: features\\["node"\\]: not a local folder`) },
  { what: 'devcontainer.json with Compose', args: ['up', '$N', '-N'], files: dc('{ "dockerComposeFile": "compose.yml", "service": "app" }'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:1:3: dockerComposeFile: Docker Compose projects are not supported`) },
  { what: 'devcontainer.json with a bad forwardPorts entry', args: ['up', '$N', '-N'], files: dc('{ "image": "x", "forwardPorts": ["abc"] }'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:1:34: forwardPorts\\[0\\]: invalid value 'abc'`) },
  { what: 'devcontainer.json with a number for image', args: ['up', '$N', '-N'], files: dc('{ "image": 42 }'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:1:12: image: expected a string, got 42`) },
  { what: 'devcontainer.json that is an array', args: ['up', '$N', '-N'], files: dc('[1,2]'), error: new RegExp(`^spoon: ${FILE(DEVCONTAINER)}:1:1: expected a JSON object`) },
  // key files
  { what: 'an authorized key file that does not exist', args: ['up', '$N', '-N', '--authorized-key', '$DIR/nope.pub'], error: /^spoon: --authorized-key: the public key file \S*\/nope\.pub does not exist/ },
  { what: 'an authorized key file holding no key', args: ['up', '$N', '-N', '--authorized-key', '$DIR/bad.pub'], files: { 'bad.pub': 'this is not a key\n' }, error: /^spoon: --authorized-key: \S*\/bad\.pub holds no OpenSSH public key/ },
  { what: 'a private key given as an authorized key', args: ['up', '$N', '-N', '--authorized-key', '$DIR/id'], files: { id: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n' }, error: /^spoon: --authorized-key: \S*\/id is a private key; name its public half/ },
  { what: 'a truncated key line in spoon.toml', args: ['up', '$N', '-N'], files: toml('authorized_keys = ["ssh-ed25519"]\n'), error: new RegExp(`^spoon: ${FILE('spoon.toml')}:1: authorized_keys: 'ssh-ed25519' is not an OpenSSH public key line`) },
  { what: "a guest key that does not exist", args: ['share', '$N', '--key', '$DIR/nope.pub', '--as', 'bob'], error: /^spoon: --key: \S*\/nope\.pub does not exist$/ },
  { what: 'a guest key file holding garbage', args: ['share', '$N', '--key', '$DIR/bad.pub', '--as', 'bob'], files: { 'bad.pub': 'garbage\n' }, error: /^spoon: --key: \S*\/bad\.pub is not an OpenSSH public key/ },
  // engine URLs
  { what: 'an engine URL with an unknown scheme', args: ['--engine', 'ftp://host', 'list'], error: /^spoon: invalid engine URL 'ftp:\/\/host' \(from --engine\): unknown scheme/ },
  { what: 'a tcp engine URL without a host', args: ['--engine', 'tcp://', 'list'], error: /^spoon: invalid engine URL 'tcp:\/\/' \(from --engine\): no host/ },
  { what: 'a unix engine URL without a path', args: ['--engine', 'unix://', 'list'], error: /^spoon: invalid engine URL 'unix:\/\/' \(from --engine\): the socket path must be absolute/ },
  { what: 'an engine URL with port 99999', args: ['--engine', 'tcp://host:99999', 'list'], error: /^spoon: invalid engine URL 'tcp:\/\/host:99999' \(from --engine\): port 99999 is outside 1-65535/ },
  { what: 'an ssh engine URL without a host', args: ['--engine', 'ssh://', 'list'], error: /^spoon: invalid engine URL 'ssh:\/\/' \(from --engine\): no host/ },
  // ssh would take these for options; -oProxyCommand runs its command (here in the project folder).
  { what: 'an ssh engine URL whose host is an ssh option', args: ['--engine', 'ssh://-oProxyCommand=touch${IFS}pwned', 'list'], absent: 'pwned', error: /^spoon: invalid engine URL 'ssh:\/\/-oProxyCommand=touch\$\{IFS\}pwned' \(from --engine\): the host '-oProxyCommand=touch\$\{IFS\}pwned' starts with '-'/ },
  { what: 'an ssh engine URL whose host is an ssh option, in DOCKER_HOST', args: ['up', '$N', '-N'], env: { DOCKER_HOST: 'ssh://-oProxyCommand=touch${IFS}pwned:22' }, absent: 'pwned', error: /^spoon: invalid engine URL '\S+' \(from DOCKER_HOST\): the host '-oProxyCommand=touch\$\{IFS\}pwned' starts with '-'/ },
  { what: 'an ssh engine URL whose user is an ssh option', args: ['--engine', 'ssh://-oProxyCommand=touch${IFS}pwned@localhost', 'list'], absent: 'pwned', error: /^spoon: invalid engine URL '\S+' \(from --engine\): the user '-oProxyCommand=touch\$\{IFS\}pwned' starts with '-'/ },
  { what: 'a DOCKER_HOST that is no URL', args: ['list'], env: { DOCKER_HOST: 'bogus' }, error: /^spoon: invalid engine URL 'bogus' \(from DOCKER_HOST\)/ },
  { what: 'a DOCKER_CERT_PATH without the TLS files', args: ['list'], env: { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }, error: /^spoon: DOCKER_CERT_PATH: ca\.pem is not in \/nonexistent/ },
  // runtime faults: exit 1
  { what: 'an engine socket that is not there', args: ['--engine', 'unix:///nonexistent/docker.sock', 'up', '$N', '-N'], code: 1, error: /^spoon: cannot reach the engine at unix:\/\/\/nonexistent\/docker\.sock: no socket there/ },
  { what: 'an engine that refuses the connection', args: ['up', '$N', '-N'], env: { DOCKER_HOST: 'tcp://127.0.0.1:1' }, code: 1, error: /^spoon: cannot reach the engine at tcp:\/\/127\.0\.0\.1:1: connection refused/ },
  { what: 'an env that does not exist', args: ['stop', '$N'], code: 1, error: /^spoon: no environment named '\S+'$/ },
];

describe('bad input (one table)', () => {
  test('the table has at least 40 cases', () => {
    assert.ok(BAD_INPUT.length >= 40, `${BAD_INPUT.length} cases`);
  });

  BAD_INPUT.forEach((c, i) => {
    test(`${c.what} → exit ${c.code ?? 2}`, async () => {
      const name = box.name(`bad${i}`);
      const dir = mkdtempSync(join(box.dir, 'project-'));
      for (const [file, content] of Object.entries(c.files ?? {})) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), content.replaceAll('$N', name));
      }
      const args = c.args.map((a) => a.replaceAll('$DIR', dir).replaceAll('$N', name));
      const r = await box.spoon(args, { cwd: dir, env: { XDG_CONFIG_HOME: join(dir, 'cfg'), ...(c.env ?? {}) } });
      assertCleanError(r, c.code ?? 2, c.error);
      if (c.absent) assert.equal(existsSync(join(dir, c.absent)), false, `${c.absent} was not made`);
      await nothingCreated(name);
      assert.equal(await volumeExists(`spoon-${name}-home`), false, 'no volume');
      assert.equal(existsSync(join(box.stateHome, 'spoon', 'envs', name)), false, 'no state for the name');
    });
  });
});

describe('runtime failures exit 1', () => {
  test('engine unreachable names the endpoint and suggests spoon doctor', async () => {
    const r = await box.spoon(['--engine', 'unix:///nonexistent/docker.sock', 'list']);
    assertCleanError(r, 1, /cannot reach the engine at unix:\/\/\/nonexistent\/docker\.sock/);
    assert.match(r.stderr, /spoon doctor/);
    const viaEnv = await box.spoon(['list'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    assertCleanError(viaEnv, 1, /cannot reach the engine at tcp:\/\/127\.0\.0\.1:1: connection refused/);
  });

  test('an image that does not exist', async () => {
    const name = box.name('noimage');
    const r = await box.spoon(['up', name, '-N', '--label', box.label, '--image', 'spoon-test/does-not-exist:1']);
    assertCleanError(r, 1, /image 'spoon-test\/does-not-exist:1' is not on the engine and could not be pulled/);
    await nothingCreated(name);
  });

  test('an image with sshd but without tmux says so', async () => {
    // Make such an image from spoon's default: a container that deletes tmux, committed.
    const base = box.name('tmuxbase');
    await box.up(base);
    const img = (await inspect(`spoon-${base}`))?.Config.Image;
    assert.ok(img);
    const created = await api<{ Id: string }>('POST', `/containers/create`, { Image: img, Entrypoint: ['/bin/rm', '-f', '/usr/bin/tmux'], Cmd: [], Labels: { 'test.spoon.run': box.runId } });
    const id = created.body?.Id ?? '';
    await api('POST', `/containers/${id}/start`);
    await api('POST', `/containers/${id}/wait`);
    const tag = `spoon-test-notmux:${box.runId}`;
    const commit = await api('POST', `/commit?container=${id}&repo=spoon-test-notmux&tag=${box.runId}`);
    assert.equal(commit.status, 201);
    try {
      const name = box.name('notmux');
      const r = await box.spoon(['up', name, '-N', '--label', box.label, '--image', tag]);
      assertCleanError(r, 1, new RegExp(`image '${tag}' has sshd but no tmux`));
      await nothingCreated(name);
    } finally {
      await api('DELETE', `/containers/${id}?force=1`);
      await api('DELETE', `/images/${tag}?force=1`);
    }
  });

  test('a publish port already in use fails cleanly and leaves no container', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const name = box.name('portbusy');
      const r = await box.spoon(['up', name, '-N', '--label', box.label, '--publish', `${port}:80`]);
      assertCleanError(r, 1, new RegExp(`host port 127\\.0\\.0\\.1:${port} is already in use`));
      await nothingCreated(name);
    } finally {
      server.close();
    }
  });

  test('destroy, stop and ports of an env that does not exist', async () => {
    for (const args of [['destroy', box.name('ghost'), '-f'], ['stop', box.name('ghost')], ['ports', box.name('ghost')]]) {
      const r = await box.spoon(args);
      assertCleanError(r, 1, new RegExp(`no environment named '${box.name('ghost')}'`));
    }
  });

  test('a tampered known_hosts makes spoon refuse to connect', async () => {
    const name = box.name('tamper');
    await box.up(name);
    assert.equal((await box.spoon(['exec', name, '--', 'true'])).code, 0);
    const file = join(box.stateHome, 'spoon', 'envs', name, 'known_hosts');
    const original = readFileSync(file, 'utf8');
    // Another valid ed25519 key under the same alias: what an attacker's sshd would present.
    const other = readFileSync(join(box.stateHome, 'spoon', 'id_ed25519.pub'), 'utf8').split(' ');
    writeFileSync(file, `spoon-${name} ${other[0]} ${other[1]}\n`);
    // Stop closes the shared connection, so the next one must verify the host key again.
    assert.equal((await box.spoon(['stop', name])).code, 0);

    const r = await box.spoon(['exec', name, '--', 'touch', '/tmp/should-not-run']);
    assertCleanError(r, 1, /host key of .* does not match the key spoon pinned; refusing to connect/);
    assert.equal(readFileSync(file, 'utf8'), `spoon-${name} ${other[0]} ${other[1]}\n`, 'spoon did not re-pin on its own');

    writeFileSync(file, original);
    const ok = await box.spoon(['exec', name, '--', 'sh', '-c', 'test -e /tmp/should-not-run && echo ran || echo clean']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'clean\n', 'the command never ran while the key did not match');
  });
});
