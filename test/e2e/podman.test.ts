/**
 * The lifecycle against Podman's Docker-compatible API (scripts/setup-podman.sh
 * starts it on PODMAN_SOCKET and loads spoon's default image into it): up, exec,
 * list, the home surviving destroy, stop, exec starting it again, destroy --volumes.
 * Assertions about engine objects go to the Podman socket; cleanup too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, apiAt, engineExec, host, type Inspect } from './harness.js';
import { DockerEngine } from '../../src/engine/docker/docker-engine.js';
import { ContainerNameConflict } from '../../src/engine/engine.js';

const PODMAN_SOCKET = '/run/spoon-podman/podman.sock';
const ENGINE = `unix://${PODMAN_SOCKET}`;

const box = new Sandbox();
const name = box.name('pod');
let image = '';

const podman = <T>(method: string, path: string, body?: unknown) => apiAt<T>(PODMAN_SOCKET, method, path, body);
const inspect = async (nameOrId: string): Promise<Inspect | undefined> => {
  const r = await podman<Inspect>('GET', `/containers/${nameOrId}/json`);
  return r.status === 200 ? r.body : undefined;
};
const volumeExists = async (volume: string): Promise<boolean> => (await podman('GET', `/volumes/${volume}`)).status === 200;
const spoon = (args: string[], input?: string) => box.spoon(['--engine', ENGINE, ...args], input === undefined ? {} : { input });
const up = async (extra: string[] = []) => {
  const r = await spoon(['up', name, '-N', '--image', image, '--label', box.label, ...extra]);
  assert.equal(r.code, 0, `spoon up ${name} on Podman failed: ${r.stderr}`);
  return r;
};

before(async () => {
  const hint = 'the Podman tests need it: run scripts/setup-podman.sh (after scripts/setup-engine.sh)';
  try {
    const r = await podman('GET', '/_ping');
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  } catch (err) {
    throw new Error(`no Podman answers on ${PODMAN_SOCKET} (${String(err)}): ${hint}, or set SPOON_SKIP_E2E=1 to skip the end-to-end tests on purpose.`);
  }
  // spoon's default image, as setup-podman.sh copied it from Docker (Podman lists it as localhost/spoon-default:HASH).
  const filters = encodeURIComponent(JSON.stringify({ label: ['dev.spoon.built=default'] }));
  const images = (await podman<{ RepoTags: string[] | null; Created: number }[]>('GET', `/images/json?filters=${filters}`)).body ?? [];
  const tag = images
    .sort((a, b) => b.Created - a.Created)
    .flatMap((i) => i.RepoTags ?? [])
    .map((t) => t.replace(/^localhost\//, ''))
    .find((t) => t.startsWith('spoon-default:'));
  if (!tag) throw new Error(`Podman on ${PODMAN_SOCKET} has no spoon-default image: ${hint}`);
  image = tag;
});

after(async () => {
  await box.cleanup(PODMAN_SOCKET);
});

describe('lifecycle on Podman', () => {
  test('up -N creates a labelled env from the default image and sshd answers', async () => {
    const r = await up(['--publish', '8080']);
    assert.match(r.stderr, new RegExp(`${name} is ready`));
    const c = await inspect(`spoon-${name}`);
    assert.ok(c, 'container spoon-NAME exists in Podman');
    assert.equal(c.State.Status, 'running');
    assert.equal(c.Config.Labels['dev.spoon.name'], name);
    assert.equal(c.Config.Labels['test.spoon.run'], box.runId);
    for (const [port, bindings] of Object.entries(c.HostConfig.PortBindings)) {
      for (const b of bindings) assert.equal(b.HostIp, '127.0.0.1', `${port} binds to 127.0.0.1`);
    }
    assert.ok(c.HostConfig.PortBindings['8080/tcp'], 'the --publish port is published');
    assert.ok(await volumeExists(`spoon-${name}-home`), 'the home volume exists in Podman');
    const doctor = await spoon(['doctor']);
    assert.match(doctor.stdout + doctor.stderr, /engine: Podman \d/, 'spoon names the engine Podman');
  });

  test('exec runs as the env user with arguments exactly as given, stdin and exit status passed', async () => {
    const who = await spoon(['exec', name, '--', 'whoami']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'dev\n');

    const args = ['a b', '$HOME', "it's", '*', '"q"', '`id`', '-n', ''];
    const printed = await spoon(['exec', name, 'printf', '[%s]\\n', ...args]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, args.map((a) => `[${a}]\n`).join(''));

    const piped = await spoon(['exec', name, '--', 'sh', '-c', 'tr a-z A-Z; exit 7'], 'hello stdin\n');
    assert.equal(piped.stdout, 'HELLO STDIN\n');
    assert.equal(piped.code, 7);
  });

  test('a second person (own HOME and state) joins the env: their keys through Podman\'s exec, the same pin', async () => {
    const bobHome = join(box.dir, 'bob', 'home');
    const bobState = join(box.dir, 'bob', 'state');
    mkdirSync(join(bobHome, '.ssh'), { recursive: true });
    const kg = host('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob@desk', '-f', join(bobHome, '.ssh', 'id_ed25519')]);
    assert.equal(kg.code, 0, kg.stderr);
    assert.equal(existsSync(join(bobState, 'spoon')), false, "bob's spoon state does not exist yet");
    const r = await box.spoon(['--engine', ENGINE, 'exec', name, '--', 'sh', '-c', 'echo $SPOON_WHO'], { env: { HOME: bobHome, XDG_STATE_HOME: bobState } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bob@desk\n');
    const pin = (state: string) => readFileSync(join(state, 'spoon', 'envs', name, 'known_hosts'), 'utf8');
    assert.equal(pin(bobState), pin(box.stateHome), "bob pinned the env's host key, as its maker did");
  });

  test('list --json shows it running with its ssh port', async () => {
    const list = await spoon(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const envs = JSON.parse(list.stdout) as { name: string; state: string; image: string; ports: { container: number; host: number; hostIp: string }[]; ssh: { host: string; port: number } | null }[];
    const env = envs.find((e) => e.name === name);
    assert.ok(env, 'listed');
    assert.equal(env.state, 'running');
    assert.match(env.image, /(^|\/)spoon-default:/);
    const c = await inspect(`spoon-${name}`);
    assert.equal(env.ssh?.host, '127.0.0.1');
    assert.equal(String(env.ssh?.port), c?.NetworkSettings.Ports['22/tcp']?.[0]?.HostPort, 'the ssh port is the one Podman published');
    const web = env.ports.find((p) => p.container === 8080);
    assert.ok(web && web.host > 0 && web.hostIp === '127.0.0.1', JSON.stringify(env.ports));
  });

  test('a file in the home survives destroy (without --volumes) and up again', async () => {
    const write = await spoon(['exec', name, '--', 'sh', '-c', 'echo precious > ~/keep.txt && sync']);
    assert.equal(write.code, 0, write.stderr);
    const destroyed = await spoon(['destroy', name, '--force']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.equal(await inspect(`spoon-${name}`), undefined, 'container removed');
    assert.ok(await volumeExists(`spoon-${name}-home`), 'home volume kept');

    await up();
    const read = await spoon(['exec', name, '--', 'cat', 'keep.txt']);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, 'precious\n', 'the home came back');
  });

  test('stop keeps the env; exec into the stopped env starts it again', async () => {
    const stop = await spoon(['stop', name]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'exited');
    const listed = JSON.parse((await spoon(['list', '--json'])).stdout) as { name: string; state: string; ssh: unknown }[];
    assert.equal(listed.find((e) => e.name === name)?.state, 'stopped');
    assert.equal(listed.find((e) => e.name === name)?.ssh, null);
    assert.equal((await spoon(['stop', name])).code, 0, 'stopping a stopped env is fine');

    const ex = await spoon(['exec', name, '--', 'echo', 'back']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'back\n');
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'running');
  });

  test('sshd killed inside the env: the next exec starts it again (healing reads Podman\'s process list)', async () => {
    assert.equal(await engineExec(`spoon-${name}`, ['pkill', 'sshd'], PODMAN_SOCKET), 0);
    const r = await spoon(['exec', name, '--', 'echo', 'back']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'back\n');
    assert.match(r.stderr, /sshd is not running in .*; starting its sshd/);
    assert.match(r.stderr, /healed by starting its sshd/);
  });

  test('a taken container name is reported as a name conflict', async () => {
    const engine = new DockerEngine({ kind: 'unix', url: ENGINE, socketPath: PODMAN_SOCKET });
    await assert.rejects(
      engine.createContainer({ name: `spoon-${name}`, image, labels: { 'test.spoon.run': box.runId }, entrypoint: [], cmd: ['true'], publish: [], mounts: [] }),
      (err: unknown) => err instanceof ContainerNameConflict,
    );
  });

  test('destroy --volumes removes the container and the home volume', async () => {
    const gone = await spoon(['destroy', name, '-f', '--volumes']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(await inspect(`spoon-${name}`), undefined, 'container removed');
    assert.equal(await volumeExists(`spoon-${name}-home`), false, 'home volume removed');
    const filters = encodeURIComponent(JSON.stringify({ label: [`dev.spoon.name=${name}`] }));
    assert.deepEqual((await podman<unknown[]>('GET', `/containers/json?all=1&filters=${filters}`)).body, []);
  });
});
