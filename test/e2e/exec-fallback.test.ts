/**
 * An image with neither sshd nor tmux (plain debian:bookworm, like many
 * devcontainer images): spoon enters it through the engine's exec, says once what
 * needs sshd, and exec, stdin, exit status and an interactive shell all work.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, api, host, inspect, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('nosshd');
const socket = `spoon-nosshd-${box.runId}`;
const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
after(() => {
  tmux('kill-server');
});

describe('images without sshd', () => {
  test('up -N creates it to be entered through the engine, and says what needs sshd', async () => {
    const r = await box.up(name, ['--image', 'debian:bookworm']);
    assert.match(r.stderr, /image 'debian:bookworm' has no sshd: spoon enters .* through the engine as the image's user \(it has no user 'dev'\); pairing guests, ssh-config and ssh forwards need sshd/);
    assert.match(r.stderr, /is ready \(through the engine\)/);
    const c = await inspect(`spoon-${name}`);
    assert.equal(c?.State.Status, 'running');
    assert.equal(c?.Config.Labels['dev.spoon.connect'], 'exec');
    assert.equal(c?.HostConfig.PortBindings['22/tcp'], undefined, 'no ssh port published');
    const list = JSON.parse((await box.spoon(['list', '--json'])).stdout) as { name: string; ssh: unknown }[];
    assert.equal(list.find((e) => e.name === name)?.ssh, null);
  });

  test('exec passes arguments exactly, stdin, stdout, stderr and the exit status', async () => {
    const args = ['a b', '$HOME', "it's", '*', ''];
    const printed = await box.spoon(['exec', name, '--', 'printf', '[%s]\\n', ...args]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, args.map((a) => `[${a}]\n`).join(''));
    const piped = await box.spoon(['exec', name, '--', 'sh', '-c', 'tr a-z A-Z; echo to-stderr >&2; exit 5'], { input: 'from stdin\n' });
    assert.equal(piped.code, 5);
    assert.equal(piped.stdout, 'FROM STDIN\n');
    assert.match(piped.stderr, /to-stderr/);
    assert.equal((await box.spoon(['exec', name, '--', 'id', '-un'])).stdout, 'root\n');
    // stop, then exec starts it again
    assert.equal((await box.spoon(['stop', name])).code, 0);
    const again = await box.spoon(['exec', name, '--', 'cat', '/etc/debian_version']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^12\./);
  });

  test("the home volume is the session user's home (root's here) and survives destroy", async () => {
    const mounts = (await api<{ Mounts: { Name?: string; Destination: string }[] }>('GET', `/containers/spoon-${name}/json`)).body?.Mounts ?? [];
    assert.equal(mounts.find((m) => m.Name === `spoon-${name}-home`)?.Destination, '/root');
    const w = await box.spoon(['exec', name, '--', 'sh', '-c', 'echo kept > ~/work.txt; echo $HOME']);
    assert.equal(w.stdout, '/root\n', w.stderr);
    assert.equal((await box.spoon(['destroy', name, '-f'])).code, 0);
    await box.up(name, ['--image', 'debian:bookworm']);
    assert.equal((await box.spoon(['exec', name, '--', 'cat', '/root/work.txt'])).stdout, 'kept\n');
  });

  test('an interactive attach gets a login shell on a terminal (no tmux in the image)', async () => {
    const env = box.env();
    const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'a', '-x', '120', '-y', '30', `env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${name}; echo "spoon-exit=$?"; sleep 30`);
    assert.equal(r.code, 0, r.stderr);
    const screen = () => tmux('capture-pane', '-p', '-t', 'a:0.0').stdout;
    await waitFor('a shell prompt', () => (/[#$] ?$/m.test(screen()) ? true : undefined), 20_000);
    tmux('send-keys', '-t', 'a:0.0', 'echo marker-$((6*7)); tty', 'Enter');
    await waitFor('the command to run', () => (screen().includes('marker-42') ? true : undefined), 10_000);
    assert.match(screen(), /\/dev\/pts\/\d+/);
    tmux('send-keys', '-t', 'a:0.0', 'exit 3', 'Enter');
    await waitFor('spoon to exit with the shell status', () => (screen().includes('spoon-exit=3') ? true : undefined), 10_000);
  });

  test('a devcontainer.json with such an image: lifecycle commands run through the engine', async () => {
    const dir = join(box.dir, 'dc-nosshd');
    mkdirSync(join(dir, '.devcontainer'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    writeFileSync(
      join(dir, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({
        image: 'debian:bookworm',
        containerUser: 'nobody',
        postCreateCommand: 'pwd > /tmp/created-in',
        containerEnv: { MODE: 'engine' },
        customizations: { spoon: { labels: { 'test.spoon.run': box.runId } } },
      }),
    );
    const n = box.name('dcnosshd');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const look = await box.spoon(['exec', n, '--', 'sh', '-c', 'cat /tmp/created-in; pwd; echo $MODE; id -un; stat -c %U /tmp/created-in'], { cwd: dir });
    assert.equal(look.code, 0, look.stderr);
    assert.equal(look.stdout, '/workspaces/dc-nosshd\n/workspaces/dc-nosshd\nengine\nnobody\nnobody\n', 'containerUser runs the container and its sessions');
    const labels = (await api<{ Config: { Labels: Record<string, string> } }>('GET', `/containers/spoon-${n}/json`)).body?.Config.Labels;
    assert.equal(labels?.['devcontainer.local_folder'], dir);
  });
});
