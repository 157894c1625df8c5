/**
 * The Engine interface over the Docker Engine HTTP API (also served by Podman).
 * The only module that knows the API's paths and JSON shapes.
 */
import { commandLines, type TopAnswer } from './top.js';
import type {
  BuildRequest,
  ContainerInfo,
  ContainerSpec,
  ContainerState,
  DirEntry,
  Engine,
  EngineResources,
  ExecProcess,
  ExecSpec,
  FileEntry,
  HostSettings,
  ImageInfo,
  PortBinding,
  ProgressSink,
  VolumeInfo,
} from '../engine.js';
import { ContainerNameConflict, EngineApiError } from '../engine.js';
import type { EngineEndpoint } from '../endpoint.js';
import { DockerHttp, drain, jsonLines, type RequestObserver } from './http.js';
import { RuntimeError } from '../../errors.js';
import type * as Archive from './archive.js';
import { execStreams } from './exec-stream.js';

interface ApiPort {
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
  IP?: string;
}
interface ApiContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  Ports: ApiPort[] | null;
  Created: number;
}
interface ApiContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: { Status: string; StartedAt: string; ExitCode: number; Error: string };
  Config: { Image: string; Labels: Record<string, string> | null };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}
interface ApiImage {
  Id: string;
  RepoTags: string[] | null;
  Labels?: Record<string, string> | null;
  Config?: { Labels: Record<string, string> | null; User?: string; Env?: string[] | null };
  Size: number;
  Created: string | number;
}
interface ApiVolume {
  Name: string;
  Labels: Record<string, string> | null;
}
interface ApiExecInspect {
  Running: boolean;
  ExitCode: number | null;
}
interface ApiStreamMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message: string };
  aux?: { ID?: string };
}

export class DockerEngine implements Engine {
  private readonly http: DockerHttp;

  constructor(
    readonly endpoint: EngineEndpoint,
    observe?: RequestObserver,
  ) {
    this.http = new DockerHttp(endpoint, observe);
  }

  async describe(): Promise<string> {
    const [v, info] = await Promise.all([
      this.http.json<{ Version: string; ApiVersion: string; Components?: { Name: string }[] }>('GET', '/version', 'reading the engine version'),
      this.http.json<{ Driver?: string }>('GET', '/info', 'reading the engine info'),
    ]);
    const product = v?.Components?.some((c) => /podman/i.test(c.Name)) ? 'Podman' : 'Docker';
    return `${product} ${v?.Version ?? '?'} (API ${v?.ApiVersion ?? '?'}), storage driver ${info?.Driver ?? '?'}`;
  }

  async resources(): Promise<EngineResources> {
    const info = await this.http.json<{ NCPU?: number; MemTotal?: number }>('GET', '/info', 'reading the engine info');
    if (typeof info?.NCPU !== 'number' || typeof info.MemTotal !== 'number') throw new RuntimeError("the engine's /info gives no NCPU or MemTotal");
    return { cpus: info.NCPU, memory: info.MemTotal };
  }

  async listContainers(labels: Record<string, string | true>): Promise<ContainerInfo[]> {
    const list = await this.http.json<ApiContainerSummary[]>('GET', '/containers/json', 'listing containers', {
      query: { all: 'true', filters: labelFilter(labels) },
    });
    return (list ?? []).map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      state: mapState(c.State),
      image: c.Image,
      imageId: c.ImageID,
      labels: c.Labels ?? {},
      ports: dedupePorts(
        (c.Ports ?? []).map((p) => ({
          container: p.PrivatePort,
          protocol: p.Type === 'udp' ? 'udp' : 'tcp',
          host: p.PublicPort ?? null,
          hostIp: p.IP ?? null,
        })),
      ),
      createdAt: new Date(c.Created * 1000).toISOString(),
      startedAt: undefined,
      status: c.Status,
    }));
  }

  async inspectContainer(nameOrId: string): Promise<ContainerInfo | undefined> {
    const c = await this.http.json<ApiContainerInspect>('GET', `/containers/${encodeURIComponent(nameOrId)}/json`, `inspecting container ${nameOrId}`, {
      accept: [404],
    });
    if (!c) return undefined;
    const ports: PortBinding[] = [];
    for (const [key, bindings] of Object.entries(c.NetworkSettings.Ports ?? {})) {
      const [port, proto] = key.split('/');
      for (const b of bindings ?? []) {
        ports.push({ container: Number(port), protocol: proto === 'udp' ? 'udp' : 'tcp', host: Number(b.HostPort), hostIp: b.HostIp || null });
      }
    }
    const neverStarted = c.State.StartedAt.startsWith('0001-');
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      state: mapState(c.State.Status),
      image: c.Config.Image,
      imageId: c.Image,
      labels: c.Config.Labels ?? {},
      ports: dedupePorts(ports),
      createdAt: c.Created,
      startedAt: neverStarted ? undefined : c.State.StartedAt,
      exitCode: c.State.ExitCode,
      error: c.State.Error,
    };
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.publish) {
      const key = `${p.container}/${p.protocol}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.host === undefined ? '' : String(p.host) });
    }
    const body = {
      Image: spec.image,
      Labels: spec.labels,
      Entrypoint: spec.entrypoint,
      Cmd: spec.cmd,
      User: spec.user ?? '',
      Hostname: spec.hostname,
      Env: spec.env ?? [],
      ExposedPorts: exposed,
      HostConfig: {
        PortBindings: bindings,
        Mounts: spec.mounts.map((m) => ({ Type: m.type, ...(m.source ? { Source: m.source } : {}), Target: m.target, ReadOnly: m.readOnly ?? false })),
        ...hostConfig(spec.host ?? {}),
      },
    };
    try {
      const created = await this.http.json<{ Id: string }>('POST', '/containers/create', `creating container ${spec.name}`, {
        query: { name: spec.name },
        json: body,
      });
      if (!created) throw new RuntimeError(`creating container ${spec.name}: the engine returned no id`);
      return created.Id;
    } catch (err) {
      if (isNameConflict(err)) throw new ContainerNameConflict(spec.name);
      throw err;
    }
  }

  async putFiles(id: string, dirs: DirEntry[], files: FileEntry[]): Promise<void> {
    const { tarOf } = await loadArchive();
    await this.drainRequest('PUT', `/containers/${id}/archive`, 'copying files into the container', {
      query: { path: '/' },
      body: tarOf(dirs, files),
      contentType: 'application/x-tar',
    });
  }

  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    const res = await this.http.request('GET', `/containers/${id}/archive`, `reading ${path} from the container`, {
      query: { path },
      accept: [404],
    });
    if (res.status === 404) {
      await drain(res.body);
      return undefined;
    }
    const { firstFileOf } = await loadArchive();
    return firstFileOf(res.body);
  }

  async pathExists(id: string, path: string): Promise<boolean> {
    const res = await this.http.request('HEAD', `/containers/${id}/archive`, `looking for ${path} in the container`, {
      query: { path },
      accept: [404],
    });
    await drain(res.body);
    return res.status === 200;
  }

  async startContainer(id: string): Promise<void> {
    await this.drainRequest('POST', `/containers/${id}/start`, 'starting the container', { accept: [304] });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.drainRequest('POST', `/containers/${id}/stop`, 'stopping the container', { query: { t: timeoutSeconds }, accept: [304] });
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.drainRequest('POST', `/containers/${id}/restart`, 'restarting the container', { query: { t: timeoutSeconds } });
  }

  async removeContainer(id: string): Promise<void> {
    await this.drainRequest('DELETE', `/containers/${id}`, 'removing the container', { query: { force: 'true' }, accept: [404] });
  }

  async renameContainer(nameOrId: string, newName: string): Promise<boolean> {
    try {
      const res = await this.http.request('POST', `/containers/${encodeURIComponent(nameOrId)}/rename`, `renaming container ${nameOrId}`, { query: { name: newName }, accept: [404] });
      await drain(res.body);
      return res.status < 400;
    } catch (err) {
      if (isNameConflict(err)) throw new ContainerNameConflict(newName);
      throw err;
    }
  }

  async containerLogs(id: string, tail: number): Promise<string> {
    const res = await this.http.request('GET', `/containers/${id}/logs`, 'reading the container log', {
      query: { stdout: 1, stderr: 1, tail },
      accept: [404],
    });
    // A 404's body is the engine's error message, not log lines.
    if (res.status === 404) {
      await drain(res.body);
      return '';
    }
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    return demuxLogs(Buffer.concat(chunks));
  }

  async processes(id: string): Promise<string[] | undefined> {
    return commandLines(await this.http.json<TopAnswer>('GET', `/containers/${id}/top`, 'listing the container processes', { accept: [404, 409] }));
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const img = await this.http.json<ApiImage>('GET', `/images/${encodeURIComponent(ref)}/json`, `inspecting image ${ref}`, { accept: [404] });
    return img ? toImageInfo(img) : undefined;
  }

  async listImages(labels: Record<string, string | true>): Promise<ImageInfo[]> {
    const list = await this.http.json<ApiImage[]>('GET', '/images/json', 'listing images', { query: { filters: labelFilter(labels) } });
    return (list ?? []).map(toImageInfo);
  }

  async pullImage(ref: string, progress: ProgressSink): Promise<void> {
    const res = await this.http.request('POST', '/images/create', `pulling ${ref}`, { query: { fromImage: ref } });
    await followStream(res.body, `pulling ${ref}`, progress);
  }

  async buildImage(request: BuildRequest, progress: ProgressSink): Promise<string> {
    const { tarOf } = await loadArchive();
    const res = await this.http.request('POST', '/build', `building ${request.tag}`, {
      query: {
        t: request.tag,
        labels: JSON.stringify(request.labels),
        rm: 'true',
        forcerm: 'true',
        dockerfile: request.dockerfile,
        buildargs: request.args && Object.keys(request.args).length ? JSON.stringify(request.args) : undefined,
        target: request.target,
      },
      body: tarOf([], request.files),
      contentType: 'application/x-tar',
    });
    const id = await followStream(res.body, `building ${request.tag}`, progress);
    if (id) return id;
    const built = await this.inspectImage(request.tag);
    if (!built) throw new RuntimeError(`building ${request.tag}: the engine reported success but the image is missing`);
    return built.id;
  }

  async commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string> {
    const what = `committing the container to ${options.repo}:${options.tag}`;
    // The body is merged with the container's own config (Entrypoint, Env, Labels, ...).
    const res = await this.http.json<{ Id: string }>('POST', '/commit', what, {
      query: { container: id, repo: options.repo, tag: options.tag, pause: 'true' },
      json: { Labels: options.labels },
    });
    if (!res?.Id) throw new RuntimeError(`${what}: the engine returned no image id`);
    return res.Id;
  }

  async removeImage(ref: string): Promise<void> {
    await this.drainRequest('DELETE', `/images/${encodeURIComponent(ref)}`, `removing image ${ref}`, { accept: [404] });
  }

  async pauseContainer(id: string): Promise<void> {
    await this.drainRequest('POST', `/containers/${id}/pause`, 'pausing the container', {});
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.drainRequest('POST', `/containers/${id}/unpause`, 'unpausing the container', {});
  }

  async copyPath(fromId: string, fromPath: string, toId: string, toPath: string): Promise<void> {
    const { rebaseTar } = await loadArchive();
    const from = await this.http.request('GET', `/containers/${fromId}/archive`, `reading ${fromPath} from the container`, { query: { path: fromPath } });
    await this.drainRequest('PUT', `/containers/${toId}/archive`, `copying ${fromPath} into ${toPath}`, {
      query: { path: '/' },
      body: rebaseTar(from.body, fromPath, toPath),
      contentType: 'application/x-tar',
    });
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.http.json('POST', '/volumes/create', `creating volume ${name}`, { json: { Name: name, Labels: labels } });
  }

  async listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]> {
    const res = await this.http.json<{ Volumes: ApiVolume[] | null }>('GET', '/volumes', 'listing volumes', { query: { filters: labelFilter(labels) } });
    return (res?.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.drainRequest('DELETE', `/volumes/${encodeURIComponent(name)}`, `removing volume ${name}`, { accept: [404] });
  }

  async exec(id: string, spec: ExecSpec): Promise<ExecProcess> {
    const what = `running ${spec.cmd[0] ?? 'a command'} in the container`;
    const created = await this.http.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(id)}/exec`, what, {
      json: {
        AttachStdin: spec.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: spec.tty,
        User: spec.user ?? '',
        Env: spec.env ?? [],
        WorkingDir: spec.workdir ?? '',
        Cmd: spec.cmd,
      },
    });
    if (!created) throw new RuntimeError(`${what}: the engine returned no exec id`);
    const execId = created.Id;
    const res = await this.http.upgrade('POST', `/exec/${execId}/start`, what, { json: { Detach: false, Tty: spec.tty } });
    // Output that came in with the 101 answer goes back in front of the socket's data.
    if (res.upgraded && res.head.length > 0) res.socket.unshift(res.head);
    const streams = res.upgraded ? execStreams(res.socket, res.socket, spec.tty) : execStreams(res.body, undefined, spec.tty);
    if (!res.upgraded && spec.stdin) {
      streams.close();
      throw new RuntimeError(`${what}: the engine at ${this.endpoint.url} did not switch the exec connection to a stream (it answered HTTP ${res.status}), so spoon cannot send it input`, {
        hint: 'use Docker 20.10+ or Podman 4+, or an image with sshd so spoon connects over SSH',
      });
    }
    let exitCode: Promise<number> | undefined;
    return {
      stdout: streams.stdout,
      stderr: streams.stderr,
      stdin: streams.stdin,
      resize: async (cols: number, rows: number) => {
        await this.drainRequest('POST', `/exec/${execId}/resize`, 'resizing the terminal', { query: { h: rows, w: cols } });
      },
      wait: () => (exitCode ??= streams.ended.then((cutOff) => this.execExitCode(execId, what, cutOff))),
      close: () => streams.close(),
    };
  }

  /** The exit status once the output has ended; the engine may record it a moment later. */
  private async execExitCode(execId: string, what: string, cutOff: Error | undefined): Promise<number> {
    const deadline = Date.now() + (cutOff ? 500 : 5000);
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const info = await this.http.json<ApiExecInspect>('GET', `/exec/${execId}/json`, `${what}: reading its exit status`);
      if (info && !info.Running && info.ExitCode !== null) return info.ExitCode;
      if (Date.now() > deadline) {
        throw new RuntimeError(
          cutOff
            ? `${what}: lost the connection to the engine: ${cutOff.message}`
            : `${what}: its output ended but the engine reports it still running`,
          { hint: 'it may still be running in the container', cause: cutOff },
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async drainRequest(method: string, path: string, what: string, options: Parameters<DockerHttp['request']>[3]): Promise<void> {
    const res = await this.http.request(method, path, what, options);
    await drain(res.body);
  }
}

/** Docker answers a taken name with 409; Podman 4 with 500 "... name "x" is already in use ...". */
function isNameConflict(err: unknown): boolean {
  if (!(err instanceof EngineApiError)) return false;
  return err.status === 409 || (err.status === 500 && /name .* is already in use/.test(err.engineMessage));
}

/** tar-stream is loaded only by the calls that move archives, not by list or inspect. */
function loadArchive(): Promise<typeof Archive> {
  return import('./archive.js');
}

function hostConfig(h: HostSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (h.cpus !== undefined) out.NanoCpus = Math.round(h.cpus * 1e9);
  if (h.cpuShares !== undefined) out.CpuShares = h.cpuShares;
  if (h.memory !== undefined) out.Memory = h.memory;
  if (h.dns?.length) out.Dns = h.dns;
  if (h.privileged) out.Privileged = true;
  if (h.capAdd?.length) out.CapAdd = h.capAdd;
  if (h.securityOpt?.length) out.SecurityOpt = h.securityOpt;
  if (h.init) out.Init = true;
  return out;
}

function labelFilter(labels: Record<string, string | true>): string {
  const label = Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return JSON.stringify({ label });
}

function mapState(s: string): ContainerState {
  switch (s) {
    case 'exited':
      return 'stopped';
    case 'running':
    case 'created':
    case 'dead':
    case 'paused':
    case 'restarting':
    case 'removing':
      return s;
    default:
      // Podman reports "configured" and "stopped" in places; treat the unknown as stopped.
      return s === 'configured' ? 'created' : 'stopped';
  }
}

/** Engines list IPv4 and IPv6 bindings of one port separately; spoon shows one. */
function dedupePorts(ports: PortBinding[]): PortBinding[] {
  const seen = new Map<string, PortBinding>();
  for (const p of ports) {
    const key = `${p.container}/${p.protocol}/${p.host ?? ''}`;
    const prev = seen.get(key);
    if (!prev || (prev.hostIp?.includes(':') && !p.hostIp?.includes(':'))) seen.set(key, p);
  }
  return [...seen.values()].sort((a, b) => a.container - b.container);
}

function toImageInfo(img: ApiImage): ImageInfo {
  return {
    id: img.Id,
    tags: (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    labels: img.Labels ?? img.Config?.Labels ?? {},
    size: img.Size,
    createdAt: typeof img.Created === 'number' ? new Date(img.Created * 1000).toISOString() : img.Created,
    ...(img.Config ? { user: img.Config.User ?? '', env: img.Config.Env ?? [] } : {}),
  };
}

/** Follows a build or pull progress stream; throws the engine's error line; returns the image id if announced. */
async function followStream(body: NodeJS.ReadableStream & AsyncIterable<unknown>, what: string, progress: ProgressSink): Promise<string | undefined> {
  let id: string | undefined;
  for await (const msg of jsonLines<ApiStreamMessage>(body as never)) {
    const error = msg.errorDetail?.message ?? msg.error;
    if (error) throw new RuntimeError(`${what}: ${error.trim()}`);
    if (msg.aux?.ID) id = msg.aux.ID;
    if (msg.stream) {
      for (const line of msg.stream.split('\n')) if (line.trim()) progress(line.trimEnd());
    } else if (msg.status) {
      progress([msg.id, msg.status, msg.progress].filter(Boolean).join(' '));
    }
  }
  return id;
}

/** Non-TTY container logs come framed: 8-byte header (stream, 0, 0, 0, size32be) then payload. */
export function demuxLogs(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  if (i === 0) return buf.toString('utf8');
  return Buffer.concat(out).toString('utf8');
}
