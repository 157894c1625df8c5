/**
 * IDE and tool access: `spoon ssh-config` makes plain ssh and scp work (also on a
 * stopped env, which the ProxyCommand starts), and `spoon forward` holds forwards
 * until it is interrupted, shown by `spoon ports`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOON, freePort, host, inspect, readBanner, useSandbox, waitFor } from './harness.js';

const box = useSandbox();
const name = box.name('access');

describe('ssh-config and forward', () => {
  test('ssh -F and scp work through the generated config, and a stopped env is started', async () => {
    await box.up(name);
    const w = await box.spoon(['ssh-config', '--write']);
    assert.equal(w.code, 0, w.stderr);
    const file = join(box.stateHome, 'spoon', 'ssh_config');
    assert.match(w.stderr, new RegExp(`Include ${file}`));
    const cfg = readFileSync(file, 'utf8');
    assert.match(cfg, new RegExp(`^Host spoon-${name}$`, 'm'));
    assert.match(cfg, /StrictHostKeyChecking yes/);
    assert.doesNotMatch(cfg, /StrictHostKeyChecking no/);

    const env = box.env();
    const sshEnv = Object.entries({ XDG_STATE_HOME: env.XDG_STATE_HOME, HOME: env.HOME }).map(([k, v]) => `${k}=${v}`);
    const r = host('env', [...sshEnv, 'ssh', '-F', file, `spoon-${name}`, 'echo', 'hello-from', '$(whoami)']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello-from dev\n');

    const local = join(box.dir, 'to-copy.txt');
    writeFileSync(local, 'copied by scp\n');
    const scp = host('env', [...sshEnv, 'scp', '-q', '-F', file, local, `spoon-${name}:copied.txt`]);
    assert.equal(scp.code, 0, scp.stderr);
    assert.equal((await box.spoon(['exec', name, '--', 'cat', 'copied.txt'])).stdout, 'copied by scp\n');

    assert.equal((await box.spoon(['stop', name])).code, 0);
    const started = host('env', [...sshEnv, 'ssh', '-F', file, `spoon-${name}`, 'true']);
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await inspect(`spoon-${name}`))?.State.Status, 'running');

    const single = await box.spoon(['ssh-config', name]);
    assert.equal(single.stdout.match(/^Host /gm)?.length, 1);
    const ghost = await box.spoon(['ssh-config', box.name('ghost')]);
    assert.equal(ghost.code, 1);
  });

  test('forward holds a tunnel until interrupted; ports shows it while it runs', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [SPOON, 'forward', name, `${port}:22`], { env: box.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      const greeting = await waitFor('the forwarded port', () => readBanner(port), 20_000);
      assert.match(greeting, /^SSH-2\.0-OpenSSH/, 'the tunnel reaches the env\'s port 22');
      const ports = JSON.parse((await box.spoon(['ports', name, '--json'])).stdout) as { forwards: { pid: number; localPort: number; remotePort: number }[] };
      assert.deepEqual(ports.forwards.map((f) => [f.localPort, f.remotePort]), [[port, 22]]);
      assert.match((await box.spoon(['ports', name])).stdout, new RegExp(`22/tcp \\(spoon forward, pid \\d+\\) -> 127\\.0\\.0\\.1:${port}`));
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(await readBanner(port), undefined, 'the tunnel is gone');
    const after = JSON.parse((await box.spoon(['ports', name, '--json'])).stdout) as { forwards: unknown[] };
    assert.deepEqual(after.forwards, []);
  });

  test('forward of a local port already in use fails cleanly', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await box.spoon(['forward', name, `${port}:80`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^spoon: cannot forward: local port 127\\.0\\.0\\.1:${port} is already in use$`, 'm'));
      const bad = await box.spoon(['forward', name, 'http']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^spoon: spoon forward: invalid value 'http'/m);
    } finally {
      busy.close();
    }
  });
});
