/**
 * Pairing: two people run `spoon NAME` and share one tmux session. Driven from
 * the host with a real tmux: each client is a real `spoon NAME` attached in its
 * own host tmux pane; what one types, the other sees, and commands really run.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SPOON, freePort, host, readBanner, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('pair');
const socket = `spoon-test-${box.runId}`;

const tmux = (...args: string[]) => host('tmux', ['-L', socket, ...args]);
const screen = (client: string) => tmux('capture-pane', '-p', '-t', `${client}:0.0`).stdout;

after(() => {
  tmux('kill-server');
});

function attachIn(client: string, extra = ''): void {
  const env = box.env();
  const cmd = `env XDG_STATE_HOME='${env.XDG_STATE_HOME}' HOME='${env.HOME}' '${process.execPath}' '${SPOON}' ${name} ${extra}; sleep 30`;
  const r = tmux('-f', '/dev/null', 'new-session', '-d', '-s', client, '-x', '150', '-y', '40', cmd);
  assert.equal(r.code, 0, r.stderr);
}

describe('pairing', () => {
  test('two `spoon NAME` clients join one tmux session and see each other type', async () => {
    await box.up(name);
    attachIn('alice');
    await waitFor('alice to be attached to the env tmux session', () => (screen('alice').includes('[pair]') ? true : undefined));
    attachIn('bob');
    await waitFor('bob to be attached to the env tmux session', () => (screen('bob').includes('[pair]') ? true : undefined));

    // Alice types; Bob sees the command and its output (computed, so it really ran).
    tmux('send-keys', '-t', 'alice:0.0', 'echo from-alice-$((6*7))', 'Enter');
    await waitFor('bob to see alice run her command', () => (screen('bob').includes('from-alice-42') ? true : undefined), 15_000);

    tmux('send-keys', '-t', 'bob:0.0', 'echo from-bob-$((7*8))', 'Enter');
    await waitFor('alice to see bob run his command', () => (screen('alice').includes('from-bob-56') ? true : undefined), 15_000);

    // Both are clients of the one session named `pair` inside the env.
    const clients = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'list-clients', '-F', '#{session_name}']);
    assert.equal(clients.code, 0, clients.stderr);
    assert.deepEqual(clients.stdout.trim().split('\n'), ['pair', 'pair']);
    const sessions = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'list-sessions', '-F', '#{session_name}']);
    assert.equal(sessions.stdout.trim(), 'pair');
  });

  test('-L forwards a local port while attached, and only while attached', async () => {
    const port = await freePort();
    attachIn('carol', `-L ${port}:22`);
    await waitFor('carol to be attached', () => (screen('carol').includes('[pair]') ? true : undefined));
    // Forwarded to the env's own sshd: its banner proves the tunnel reaches the container.
    const banner = await waitFor('the forwarded port to answer', () => readBanner(port));
    assert.match(banner, /^SSH-2\.0-OpenSSH/);

    tmux('send-keys', '-t', 'carol:0.0', 'tmux detach-client', 'Enter');
    await waitFor('the forward to close after detaching', async () => ((await readBanner(port)) === undefined ? true : undefined), 15_000);
  });
});
