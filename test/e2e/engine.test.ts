/**
 * Reaching the engine and the CLI's reporting: a tcp engine (through a loopback
 * relay to the socket), --url, API version negotiation, --debug, --verbose,
 * images, doctor and --version.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ROOT, SOCKET, api, defaultImageTag, host, useSandbox } from './harness.js';

const box = useSandbox();
const name = box.name('engine');
let relay: Server;
const sockets = new Set<Socket>();
let tcpUrl = '';
let tlsRelay: Server;
let tlsUrl = '';
/** The same relay on an address of this machine that is not loopback: "another host" to spoon. */
let outerRelay: Server;
let outerUrl = '';
const certs = join(box.dir, 'certs');
const at = (f: string) => join(certs, f);
const otherCa = join(box.dir, 'other-ca');

/** A CA, a server cert for 127.0.0.1 and a client cert: what `dockerd --tlsverify` uses. */
function makeCerts(): void {
  mkdirSync(certs, { recursive: true });
  const ssl = (...args: string[]) => {
    const r = host('openssl', args);
    assert.equal(r.code, 0, r.stderr);
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=spoon test CA', '-keyout', at('ca-key.pem'), '-out', at('ca.pem'));
  const issue = (key: string, cert: string, cn: string, ext: string) => {
    writeFileSync(at(`${cn}.ext`), `${ext}\n`);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', at(key), '-out', at(`${cn}.csr`));
    ssl('x509', '-req', '-in', at(`${cn}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', at(`${cn}.ext`), '-out', at(cert));
  };
  issue('server-key.pem', 'server-cert.pem', 'server', 'subjectAltName=IP:127.0.0.1');
  // The names spoon (like the docker CLI) reads from DOCKER_CERT_PATH.
  issue('key.pem', 'cert.pem', 'client', 'extendedKeyUsage=clientAuth');
  // The same client cert beside the ca.pem of a CA that never signed the server's.
  mkdirSync(otherCa, { recursive: true });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=some other CA', '-keyout', join(otherCa, 'ca-key.pem'), '-out', join(otherCa, 'ca.pem'));
  for (const f of ['cert.pem', 'key.pem']) copyFileSync(at(f), join(otherCa, f));
}

function pipeToEngine(client: Socket): void {
  const upstream = connect(SOCKET);
  sockets.add(client).add(upstream);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

before(async () => {
  relay = createServer(pipeToEngine);
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  tcpUrl = `tcp://127.0.0.1:${portOf(relay)}`;

  makeCerts();
  // Mutual TLS, as `dockerd --tlsverify`: only clients with a cert from our CA get through.
  tlsRelay = createTlsServer(
    { key: readFileSync(at('server-key.pem')), cert: readFileSync(at('server-cert.pem')), ca: readFileSync(at('ca.pem')), requestCert: true, rejectUnauthorized: true },
    pipeToEngine,
  );
  await new Promise<void>((r) => tlsRelay.listen(0, '127.0.0.1', r));
  tlsUrl = `tcp://127.0.0.1:${portOf(tlsRelay)}`;

  const outer = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  assert.ok(outer, 'this machine has an IPv4 address besides loopback (docker0 at least)');
  outerRelay = createServer(pipeToEngine);
  await new Promise<void>((r) => outerRelay.listen(0, outer, r));
  outerUrl = `tcp://${outer}:${portOf(outerRelay)}`;
});

after(() => {
  for (const s of sockets) s.destroy();
  relay.close();
  tlsRelay.close();
  outerRelay.close();
});

describe('engine endpoints and reporting', () => {
  test('DOCKER_HOST=tcp:// creates, lists and connects', async () => {
    const up = await box.spoon(['up', name, '-N', '--label', box.label], { env: { DOCKER_HOST: tcpUrl } });
    assert.equal(up.code, 0, up.stderr);
    const list = await box.spoon(['list', '--json'], { env: { DOCKER_HOST: tcpUrl } });
    assert.ok((JSON.parse(list.stdout) as { name: string }[]).some((e) => e.name === name));
    const ex = await box.spoon(['exec', name, '--', 'hostname'], { env: { DOCKER_HOST: tcpUrl } });
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout.trim(), name);
  });

  test('DOCKER_HOST=tcp:// also builds: the build context goes to the remote engine', async () => {
    const dir = join(box.dir, 'tcpbuild');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${await defaultImageTag()}\nCOPY marker.txt /etc/tcp-built\nLABEL test.spoon.run=${box.runId}\n`);
    writeFileSync(join(dir, 'marker.txt'), 'built through tcp\n');
    const tag = `spoon-test-tcpbuild:${box.runId}`;
    const built = await box.spoon(['build', dir, '-t', tag], { env: { DOCKER_HOST: tcpUrl } });
    assert.equal(built.code, 0, built.stderr);
    const n = box.name('tcpbuilt');
    try {
      const up = await box.spoon(['up', n, '-N', '--label', box.label, '--image', tag], { env: { DOCKER_HOST: tcpUrl } });
      assert.equal(up.code, 0, up.stderr);
      assert.equal((await box.spoon(['exec', n, '--', 'cat', '/etc/tcp-built'], { env: { DOCKER_HOST: tcpUrl } })).stdout, 'built through tcp\n');
    } finally {
      await box.spoon(['destroy', n, '-f', '--volumes'], { env: { DOCKER_HOST: tcpUrl } });
      await api('DELETE', `/images/${tag}?force=1`);
    }
  });

  test('a TLS engine (DOCKER_TLS_VERIFY + DOCKER_CERT_PATH) is reached with the client certificate and verified', async () => {
    const tls = { DOCKER_HOST: tlsUrl, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs };
    const ports = await box.spoon(['ports', name], { env: tls });
    assert.equal(ports.code, 0, ports.stderr);
    assert.match(ports.stdout, /^22\/tcp \(ssh\) -> 127\.0\.0\.1:\d+$/m);

    // A second person (own HOME and spoon state) joins the env through the TLS engine.
    const bobHome = join(box.dir, 'bob-home');
    mkdirSync(join(bobHome, '.ssh'), { recursive: true });
    assert.equal(host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob@tls', '-f', join(bobHome, '.ssh', 'id_ed25519')]).code, 0);
    const bob = { ...tls, HOME: bobHome, XDG_STATE_HOME: join(box.dir, 'bob-state') };
    const joined = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo "$SPOON_WHO"'], { env: bob });
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(joined.stdout, 'bob@tls\n');

    // Without the TLS settings the relay refuses the plain-HTTP talk: a clean runtime error.
    const plain = await box.spoon(['ports', name], { env: { DOCKER_HOST: tlsUrl } });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /^spoon: cannot reach the engine at tcp:\/\/127\.0\.0\.1:\d+: the connection was reset \(if the engine uses TLS, set DOCKER_TLS_VERIFY=1/m);

    // A missing cert folder is bad input: named, exit 2, not a stack trace.
    const missing = await box.spoon(['list'], { env: { ...tls, DOCKER_CERT_PATH: join(box.dir, 'nope') } });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^spoon: DOCKER_CERT_PATH: ca\.pem is not in \S*\/nope /m);
  });

  test("with DOCKER_CERT_PATH's ca.pem the engine's certificate is checked, also without DOCKER_TLS_VERIFY", async () => {
    const right = await box.spoon(['ports', name], { env: { DOCKER_HOST: tlsUrl, DOCKER_CERT_PATH: certs } });
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /^22\/tcp \(ssh\) -> 127\.0\.0\.1:\d+$/m);
    // Signed by another CA than the folder's: whoever answers is not trusted, with or without DOCKER_TLS_VERIFY.
    for (const verify of [{}, { DOCKER_TLS_VERIFY: '1' }]) {
      const wrong = await box.spoon(['ports', name], { env: { DOCKER_HOST: tlsUrl, DOCKER_CERT_PATH: otherCa, ...verify } });
      assert.equal(wrong.code, 1, `${JSON.stringify(verify)}: ${wrong.stderr}`);
      assert.equal(wrong.stdout, '');
      assert.match(wrong.stderr, /^spoon: cannot reach the engine at tcp:\/\/127\.0\.0\.1:\d+: its TLS certificate does not pass the check against \S*\/other-ca\/ca\.pem /m);
      assert.doesNotMatch(wrong.stderr, /^\s+at /m, 'no stack trace');
    }
  });

  test('plain tcp to an engine on another host warns once; loopback and TLS do not', async () => {
    const r = await box.spoon(['ports', name], { env: { DOCKER_HOST: outerUrl } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^22\/tcp \(ssh\) -> /m);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('spoon: warning:'));
    assert.deepEqual(warnings, [`spoon: warning: the engine at ${outerUrl} is reached over plain tcp: anyone on the network can read and change what spoon tells it`]);
    assert.match(r.stderr, /^hint: use TLS/m);
    // --debug shows that several requests went that way, still with one warning.
    const debug = await box.spoon(['--debug', 'ports', name], { env: { DOCKER_HOST: outerUrl } });
    assert.ok((debug.stderr.match(/spoon: debug: engine /g) ?? []).length >= 2, debug.stderr);
    assert.equal((debug.stderr.match(/spoon: warning:/g) ?? []).length, 1, debug.stderr);
    for (const env of [{ DOCKER_HOST: tcpUrl }, { DOCKER_HOST: tlsUrl, DOCKER_CERT_PATH: certs }]) {
      const quiet = await box.spoon(['ports', name], { env });
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.doesNotMatch(quiet.stderr, /warning/, JSON.stringify(env));
    }
  });

  test('--url (docker-spoon) and --engine override DOCKER_HOST', async () => {
    const broken = { DOCKER_HOST: 'tcp://127.0.0.1:1' };
    for (const flag of ['--url', '--engine']) {
      const r = await box.spoon([flag, tcpUrl, 'ports', name], { env: broken });
      assert.equal(r.code, 0, `${flag}: ${r.stderr}`);
      assert.match(r.stdout, /^22\/tcp \(ssh\) -> 127\.0\.0\.1:\d+$/m);
    }
  });

  test('--debug shows versioned engine requests and the ssh command line', async () => {
    await box.spoon(['stop', name]);
    const r = await box.spoon(['--debug', 'exec', name, '--', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /spoon: debug: engine GET \/v1\.\d+\/containers\/spoon-[^/]+\/json -> 200/);
    assert.match(r.stderr, /spoon: debug: ssh command: ssh .*StrictHostKeyChecking=yes.* dev@127\.0\.0\.1/);
  });

  test('--verbose prints phase timings that end with the total', async () => {
    await box.spoon(['stop', name]);
    const r = await box.spoon(['-v', 'up', name, '-N']);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.startsWith('spoon: ready: '));
    assert.ok(line, r.stderr);
    assert.match(line, /start \d+ ms/);
    assert.match(line, /ssh-ready \d+ ms/);
    const phases = [...line.replace(/; total.*/, '').matchAll(/ (\d+) ms/g)].map((m) => Number(m[1]));
    const total = Number(/total (\d+) ms/.exec(line)?.[1]);
    const sum = phases.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - total) <= phases.length, `phases ${sum} ms add up to the total ${total} ms`);
  });

  test('images lists the default image and who uses it; --list-images is the same', async () => {
    const json = JSON.parse((await box.spoon(['images', '--json'])).stdout) as { ref: string; builtBySpoon: boolean; usedBy: string[] }[];
    const def = json.find((i) => i.ref.startsWith('spoon-default:'));
    assert.ok(def?.builtBySpoon);
    assert.ok(def.usedBy.includes(name));
    const text = await box.spoon(['--list-images']);
    assert.match(text.stdout, /^spoon-default:\S+\s+[0-9a-f]{12}/m);
  });

  test('doctor reports the engine, the ssh client and each env; --version prints the package version', async () => {
    await box.spoon(['up', name, '-N', '--label', box.label]);
    const doc = await box.spoon(['doctor', '--json']);
    // Other envs on the engine may have their own problems: look at this run's only.
    const checks = JSON.parse(doc.stdout) as { name: string; ok: boolean; detail: string; fix?: string }[];
    assert.match(checks.find((c) => c.name === 'engine')?.detail ?? '', /(Docker|Podman) .* \(API 1\.\d+\), storage driver \S+/);
    assert.match(checks.find((c) => c.name === 'ssh client')?.detail ?? '', /OpenSSH/);
    const mine = checks.find((c) => c.name === `env ${name}`);
    assert.equal(mine?.ok, true, JSON.stringify(mine));
    assert.match(mine?.detail ?? '', /sshd answers on port \d+, host key matches the pin/);

    // A pin that does not match what the env presents is a problem, with a fix.
    const file = join(box.stateHome, 'spoon', 'envs', name, 'known_hosts');
    const good = readFileSync(file, 'utf8');
    const other = readFileSync(join(box.stateHome, 'spoon', 'id_ed25519.pub'), 'utf8').split(' ');
    writeFileSync(file, `spoon-${name} ${other[0]} ${other[1]}\n`);
    try {
      const bad = await box.spoon(['doctor', '--json']);
      assert.equal(bad.code, 1);
      const now = (JSON.parse(bad.stdout) as { name: string; ok: boolean; detail: string; fix?: string }[]).find((c) => c.name === `env ${name}`);
      assert.equal(now?.ok, false);
      assert.match(now?.detail ?? '', /host key is not the one spoon pinned .*made again/);
      assert.match(now?.fix ?? '', new RegExp(`^spoon ${name} pins its new key, read through the engine$`));
    } finally {
      writeFileSync(file, good);
    }
    assert.equal((await box.spoon(['stop', name])).code, 0);
    const stopped = (JSON.parse((await box.spoon(['doctor', '--json'])).stdout) as { name: string; ok: boolean; detail: string }[]).find((c) => c.name === `env ${name}`);
    assert.equal(stopped?.ok, true);
    assert.match(stopped?.detail ?? '', /^stopped; `spoon .*` starts it$/);

    const unreachable = await box.spoon(['--engine', 'unix:///nonexistent.sock', 'doctor']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stdout, /FAIL engine: cannot reach the engine/);

    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await box.spoon(['--version'])).stdout, `${pkg.version}\n`);
  });
});
