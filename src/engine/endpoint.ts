/**
 * Where the engine is: `--engine URL` / `--url`, else DOCKER_HOST, else the local
 * socket. Pure parsing, so it is unit-tested; TLS material is read when connecting.
 */
import { UsageError } from '../errors.js';

export type EngineEndpoint =
  | { kind: 'unix'; url: string; socketPath: string }
  | { kind: 'tcp'; url: string; host: string; port: number; tls: TlsSettings | undefined }
  /** Reached with the system ssh (the user's config, keys and known_hosts) and `docker system dial-stdio` there. */
  | { kind: 'ssh'; url: string; host: string; user: string | undefined; port: number | undefined };

/**
 * TLS to a tcp engine. The engine's certificate is always verified against the folder's
 * ca.pem, and the client presents cert.pem and key.pem. The docker CLI checks the engine's
 * certificate only when DOCKER_TLS_VERIFY is set, even with a ca.pem at hand; spoon checks
 * it always: the engine API is root on its host, and an unchecked certificate lets anyone
 * in the middle answer for it.
 */
export interface TlsSettings {
  /** The folder with ca.pem, cert.pem and key.pem: DOCKER_CERT_PATH, else ~/.docker. */
  certPath: string;
}

export const DEFAULT_ENGINE_URL = 'unix:///var/run/docker.sock';

export interface EndpointEnv {
  DOCKER_HOST?: string | undefined;
  DOCKER_TLS_VERIFY?: string | undefined;
  DOCKER_CERT_PATH?: string | undefined;
  HOME?: string | undefined;
}

export function resolveEndpoint(flag: string | undefined, env: EndpointEnv): EngineEndpoint {
  const raw = flag ?? (env.DOCKER_HOST || undefined) ?? DEFAULT_ENGINE_URL;
  const source = flag !== undefined ? '--engine' : env.DOCKER_HOST ? 'DOCKER_HOST' : 'default';
  return parseEngineUrl(raw, source, env);
}

export function parseEngineUrl(raw: string, source: string, env: EndpointEnv): EngineEndpoint {
  const bad = (why: string) =>
    new UsageError(`invalid engine URL '${raw}' (from ${source}): ${why}`, {
      hint: 'use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]',
    });

  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw bad('the socket path must be absolute');
    return { kind: 'unix', url: raw, socketPath };
  }
  if (raw.startsWith('/')) return { kind: 'unix', url: `unix://${raw}`, socketPath: raw };

  // URL() rejects these with no reason worth showing.
  const afterScheme = /^[a-z]+:\/\/(.*)$/.exec(raw)?.[1];
  if (afterScheme === '') throw bad('no host');
  const port = /:(\d+)\/?$/.exec(raw)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad(`port ${port} is outside 1-65535`);

  if (raw.startsWith('tcp://') || raw.startsWith('http://') || raw.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(raw.replace(/^tcp:/, 'http:'));
    } catch {
      throw bad('not a URL');
    }
    if (!url.hostname) throw bad('no host');
    if (url.pathname !== '/' && url.pathname !== '') throw bad('an engine URL has no path');
    const useTls = raw.startsWith('https://') || isSet(env.DOCKER_TLS_VERIFY) || isSet(env.DOCKER_CERT_PATH);
    const defaultPort = useTls ? 2376 : 2375;
    const port = url.port ? Number(url.port) : defaultPort;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const tls = useTls ? { certPath: env.DOCKER_CERT_PATH || `${env.HOME ?? ''}/.docker` } : undefined;
    return { kind: 'tcp', url: raw, host, port, tls };
  }

  if (raw.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad('not a URL');
    }
    if (!url.hostname) throw bad('no host');
    if (url.pathname !== '/' && url.pathname !== '') throw bad('an ssh engine URL has no path (spoon runs `docker system dial-stdio` there)');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    let user: string | undefined;
    try {
      user = url.username ? decodeURIComponent(url.username) : undefined;
    } catch {
      throw bad(`the user '${url.username}' is not valid percent-encoding`);
    }
    // ssh reads a word starting with '-' as an option wherever it stands: a host such as
    // `-oProxyCommand=...` would run a command. spoon also puts `--` before the host
    // (sshEngineArgv), but such a URL is never meant, so it is refused outright.
    if (host.startsWith('-')) throw bad(`the host '${host}' starts with '-', which ssh would read as an option`);
    if (user?.startsWith('-')) throw bad(`the user '${user}' starts with '-', which ssh would read as an option`);
    return { kind: 'ssh', url: raw, host, user, port: url.port ? Number(url.port) : undefined };
  }
  throw bad('unknown scheme');
}

/** Like the docker CLI: any non-empty value turns TLS on, "0" included (DOCKER_TLS_VERIFY=0 too). */
function isSet(v: string | undefined): boolean {
  return v !== undefined && v !== '';
}

/**
 * The host that published ports are reached on: the engine's host for a remote tcp
 * engine, else the listen address. For an ssh engine that address is as seen from
 * the engine's host, and spoon goes there through ssh (the ProxyCommand built in core/connect.ts).
 */
export function publishedPortHost(endpoint: EngineEndpoint, listen: string): string {
  if (endpoint.kind === 'tcp' && !isLoopback(endpoint.host)) return endpoint.host;
  if (listen === '0.0.0.0' || listen === '::' || listen === '') return '127.0.0.1';
  return listen;
}

/** Where an env's published ports are reached: the node it runs on (a cluster backend), else as publishedPortHost says. */
export function envPortHost(endpoint: EngineEndpoint, listen: string, node: { addr: string } | undefined): string {
  return node?.addr || publishedPortHost(endpoint, listen);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}

export interface EngineWarning {
  message: string;
  hint: string;
}

/**
 * What to warn about the way to the engine, if anything: plain tcp to another machine
 * carries the engine API (root on that host) unencrypted and unauthenticated, so anyone
 * on the network between can read it or take it over. Loopback never leaves this host.
 */
export function insecureEngineWarning(endpoint: EngineEndpoint): EngineWarning | undefined {
  if (endpoint.kind !== 'tcp' || endpoint.tls || isLoopback(endpoint.host)) return undefined;
  return {
    message: `the engine at ${endpoint.url} is reached over plain tcp: anyone on the network can read and change what spoon tells it`,
    hint: 'use TLS (DOCKER_CERT_PATH with ca.pem, cert.pem and key.pem) or ssh://[USER@]HOST',
  };
}

export interface SshEngineCall {
  /** More ssh options, such as `-W host:port`: they go before `--`. */
  options?: string[];
  /** The remote command, after the host. */
  command?: string[];
}

/**
 * `ssh` arguments that reach an ssh engine's host with the user's own ssh setup, never
 * prompting: `OPTIONS -- HOST [COMMAND...]`. The `--` ends ssh's options, so nothing
 * taken from the engine URL is ever read as one. Every option must come before it:
 * ssh takes whatever follows the host as the remote command.
 */
export function sshEngineArgv(endpoint: Extract<EngineEndpoint, { kind: 'ssh' }>, call: SshEngineCall = {}): string[] {
  return [...sshEngineOptions(endpoint), ...(call.options ?? []), '--', endpoint.host, ...(call.command ?? [])];
}

function sshEngineOptions(endpoint: Extract<EngineEndpoint, { kind: 'ssh' }>): string[] {
  return ['-o', 'BatchMode=yes', ...(endpoint.port ? ['-p', String(endpoint.port)] : []), ...(endpoint.user ? ['-l', endpoint.user] : [])];
}
