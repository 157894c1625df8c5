/**
 * A small HTTP transport to the Docker Engine API over node:http (unix socket,
 * tcp, or tcp+TLS). It negotiates the API version once per process, turns socket
 * errors into one sentence naming the endpoint, and reports each request to an
 * optional observer (--debug).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { EngineEndpoint } from '../endpoint.js';
import { EngineUnreachableError, RuntimeError, UsageError, describeCause } from '../../errors.js';
import { EngineApiError } from '../engine.js';

/** The oldest API spoon speaks (Docker 20.10, Podman 4) and the newest it asks for. */
export const MIN_API = '1.41';
export const MAX_API = '1.47';

export type RequestObserver = (line: string) => void;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: Readable | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Statuses that are answers rather than errors (e.g. 404 for "is it there?"). */
  accept?: number[];
}

export interface EngineResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/**
 * The answer to a request that asked for a protocol upgrade (exec/attach): either the
 * engine switched protocols (HTTP 101) and `socket` is the raw duplex stream, with
 * `head` the bytes that arrived with the answer; or it answered plainly (some engines
 * and Podman versions) and `body` carries the output, with no way to send input.
 */
export type UpgradeResponse =
  | { upgraded: true; status: number; headers: http.IncomingHttpHeaders; socket: Duplex; head: Buffer }
  | ({ upgraded: false } & EngineResponse);

interface Transport {
  request: typeof http.request;
  agent: http.Agent;
  target: { socketPath: string } | { host: string; port: number };
}

export class DockerHttp {
  private apiPrefix: Promise<string> | undefined;
  private transport: Promise<Transport> | undefined;
  private tunnel: { lastError(): string | undefined } | undefined;

  constructor(
    readonly endpoint: EngineEndpoint,
    private readonly observe?: RequestObserver,
  ) {}

  /** Keep-alive transport; node:https (and TLS) is loaded only for TLS endpoints. */
  private connection(): Promise<Transport> {
    this.transport ??= (async () => {
      const endpoint = this.endpoint;
      const plain = { request: http.request, agent: new http.Agent({ keepAlive: true }) };
      if (endpoint.kind === 'unix') return { ...plain, target: { socketPath: endpoint.socketPath } };
      if (endpoint.kind === 'ssh') {
        const { openSshTunnel } = await import('./ssh-tunnel.js');
        const tunnel = await openSshTunnel(endpoint, this.observe);
        this.tunnel = tunnel;
        // Every connection is an ssh login: a few, kept alive and reused, not one per request.
        return { ...plain, agent: new http.Agent({ keepAlive: true, maxSockets: 4 }), target: { socketPath: tunnel.socketPath } };
      }
      if (!endpoint.tls) return { ...plain, target: { host: endpoint.host, port: endpoint.port } };
      const https = await import('node:https');
      const dir = endpoint.tls.certPath;
      const read = (f: string) => {
        try {
          return readFileSync(join(dir, f));
        } catch (err) {
          const hint = 'set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem';
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`DOCKER_CERT_PATH: ${f} is not in ${dir} (needed for ${endpoint.url})`, { hint });
          throw new RuntimeError(`cannot read TLS file ${join(dir, f)} for ${endpoint.url}: ${describeCause(err)}`, { hint });
        }
      };
      // Always checked against ca.pem, with or without DOCKER_TLS_VERIFY (see TlsSettings).
      const agent = new https.Agent({ keepAlive: true, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), rejectUnauthorized: true });
      return { request: https.request as unknown as typeof http.request, agent, target: { host: endpoint.host, port: endpoint.port } };
    })();
    return this.transport;
  }

  /** The negotiated `/vX.Y` prefix: min(engine's version, MAX_API), refusing engines older than MIN_API. */
  apiVersion(): Promise<string> {
    this.apiPrefix ??= this.raw('GET', '/_ping', {}).then(async (res) => {
      await drain(res.body);
      const engineVersion = String(res.headers['api-version'] ?? MIN_API);
      if (compareVersions(engineVersion, MIN_API) < 0) {
        throw new RuntimeError(`the engine at ${this.endpoint.url} speaks API ${engineVersion}; spoon needs ${MIN_API} or newer`, {
          hint: 'upgrade Docker (20.10+) or Podman (4+)',
        });
      }
      return `/v${compareVersions(engineVersion, MAX_API) < 0 ? engineVersion : MAX_API}`;
    });
    return this.apiPrefix;
  }

  async request(method: string, path: string, what: string, options: RequestOptions = {}): Promise<EngineResponse> {
    const prefix = await this.apiVersion();
    const res = await this.raw(method, prefix + path, options);
    await throwUnlessAccepted(res, what, options);
    return res;
  }

  /** A request whose answer is JSON (or nothing). Accepted error statuses come back as undefined. */
  async json<T>(method: string, path: string, what: string, options: RequestOptions = {}): Promise<T | undefined> {
    const res = await this.request(method, path, what, options);
    const text = await readText(res.body);
    if (res.status >= 400) return undefined;
    return (text ? JSON.parse(text) : undefined) as T | undefined;
  }

  /**
   * Like request(), with `Connection: Upgrade` / `Upgrade: tcp`, resolving on either
   * the 101 upgrade or an ordinary response. Error statuses throw EngineApiError.
   */
  async upgrade(method: string, path: string, what: string, options: RequestOptions = {}): Promise<UpgradeResponse> {
    const prefix = await this.apiVersion();
    const headers = { ...options.headers, Connection: 'Upgrade', Upgrade: 'tcp' };
    const res = await this.raw(method, prefix + path, { ...options, headers }, true);
    if (res.upgraded) return res;
    await throwUnlessAccepted(res, what, options);
    return res;
  }

  private raw(method: string, path: string, options: RequestOptions): Promise<EngineResponse>;
  private raw(method: string, path: string, options: RequestOptions, upgrade: true): Promise<UpgradeResponse>;
  private async raw(method: string, path: string, options: RequestOptions, upgrade = false): Promise<EngineResponse | UpgradeResponse> {
    const { request, agent, target } = await this.connection();
    const started = performance.now();
    const query = encodeQuery(options.query);
    const headers: Record<string, string> = { ...options.headers };
    let payload: Buffer | Readable | undefined = options.body;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
    } else if (options.contentType) {
      headers['content-type'] = options.contentType;
    }
    if (Buffer.isBuffer(payload)) headers['content-length'] = String(payload.length);

    return new Promise<EngineResponse | UpgradeResponse>((resolve, reject) => {
      const req = request({ ...target, agent, method, path: path + query, headers }, (res) => {
        this.observe?.(`engine ${method} ${path}${query} -> ${res.statusCode} (${Math.round(performance.now() - started)} ms)`);
        const answer = { status: res.statusCode ?? 0, headers: res.headers, body: res };
        resolve(upgrade ? { upgraded: false, ...answer } : answer);
      });
      if (upgrade) {
        // node hands over the socket (and forgets it in the agent) only when someone listens.
        req.on('upgrade', (res, socket, head) => {
          this.observe?.(`engine ${method} ${path}${query} -> ${res.statusCode} upgraded (${Math.round(performance.now() - started)} ms)`);
          resolve({ upgraded: true, status: res.statusCode ?? 101, headers: res.headers, socket, head });
        });
      }
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.unreachable(err)));
      if (payload === undefined || Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }

  private unreachable(err: NodeJS.ErrnoException): Error {
    const why: Record<string, string> = {
      ENOENT: 'no socket there (is the engine running?)',
      ECONNREFUSED: 'connection refused (is the engine running?)',
      EACCES: 'permission denied on the socket',
      ETIMEDOUT: 'timed out',
      EHOSTUNREACH: 'host unreachable',
      ENOTFOUND: 'unknown host',
      ECONNRESET:
        this.endpoint.kind === 'tcp' && !this.endpoint.tls
          ? 'the connection was reset (if the engine uses TLS, set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)'
          : 'the connection was reset',
    };
    if (this.endpoint.kind === 'tcp' && this.endpoint.tls && isCertificateError(err)) {
      const ca = join(this.endpoint.tls.certPath, 'ca.pem');
      return new EngineUnreachableError(`cannot reach the engine at ${this.endpoint.url}: its TLS certificate does not pass the check against ${ca} (${err.message})`, {
        hint: `spoon always checks the engine's certificate, with or without DOCKER_TLS_VERIFY: put the CA that issued it (for this host name) in ${ca}`,
        cause: err,
      });
    }
    // Through ssh, what ssh said (host key, auth, no docker there) is the real reason.
    const reason = this.tunnel?.lastError() ?? (err.code && why[err.code]) ?? err.message;
    return new EngineUnreachableError(`cannot reach the engine at ${this.endpoint.url}: ${reason}`, {
      hint: 'run `spoon doctor` to check the engine, or point --engine / DOCKER_HOST at one',
      cause: err,
    });
  }
}

/** OpenSSL's verify failures (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...) and node's name check. */
function isCertificateError(err: NodeJS.ErrnoException): boolean {
  return /CERT|SIGNATURE|HOSTNAME_MISMATCH/.test(err.code ?? '');
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function encodeQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function engineMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message.trim();
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim();
}

/** An error status the caller did not accept becomes an EngineApiError with the engine's message. */
async function throwUnlessAccepted(res: EngineResponse, what: string, options: RequestOptions): Promise<void> {
  if (res.status >= 400 && !(options.accept ?? []).includes(res.status)) {
    throw new EngineApiError(res.status, engineMessage(await readText(res.body)), what);
  }
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a body to its end, dropping it (the connection can then be reused). */
export async function drain(body: Readable): Promise<void> {
  for await (const _ of body) {
    // discard
  }
}

/** Yields each JSON object of a newline-delimited JSON stream (build and pull progress). */
export async function* jsonLines<T>(body: Readable): AsyncGenerator<T> {
  let buffered = '';
  for await (const chunk of body) {
    buffered += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as T;
}
