/**
 * An ssh:// engine, reached the way the docker CLI does: each connection runs
 * `ssh HOST docker system dial-stdio` and joins its stdio to a socket. spoon
 * serves that on a private unix socket so its HTTP client talks to it like any
 * local engine. The ssh uses the user's own config, keys and known_hosts: the
 * engine host's key is verified like any ssh (BatchMode: never a prompt).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshEngineArgv, type EngineEndpoint } from '../endpoint.js';
import { spawnPipedSsh } from '../../ssh/spawn.js';

export interface Tunnel {
  socketPath: string;
  /** What ssh said when a connection failed (host key, auth, no docker there). */
  lastError(): string | undefined;
}

export function openSshTunnel(endpoint: Extract<EngineEndpoint, { kind: 'ssh' }>, observe?: (line: string) => void): Promise<Tunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'spoon-engine-'));
  const socketPath = join(dir, 'engine.sock');
  let lastError: string | undefined;
  const server: Server = createServer((client: Socket) => {
    const child = spawnPipedSsh(sshEngineArgv(endpoint, { command: ['docker', 'system', 'dial-stdio'] }), observe);
    // A kept-alive engine connection must not keep spoon running once its work is done.
    child.unref();
    for (const stream of [client, child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    client.pipe(child.stdin);
    // End the client only once ssh has exited, so its reason (host key, auth) is known first.
    child.stdout.pipe(client, { end: false });
    child.on('exit', (code) => {
      if (code !== 0) lastError = stderr.trim().split('\n').filter((l) => l.trim() && !l.startsWith('@')).pop() ?? `ssh exited with status ${code}`;
      client.end();
    });
    child.on('error', (err) => {
      lastError = err.message;
      client.destroy();
    });
    client.on('error', () => child.kill());
    client.on('close', () => child.stdin.end());
  });
  server.unref();
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve({ socketPath, lastError: () => lastError }));
  });
}
