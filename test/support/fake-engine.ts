/**
 * An in-memory Engine for unit tests of core/: containers with states, names, labels,
 * published ports, a filesystem per container with named volumes mounted into it,
 * images (commit copies the container's own files, not its volumes), exec with
 * scriptable answers, logs, pause, and faults a test injects.
 *
 * The one real thing it does is sshd's greeting: a running ssh-mode container's
 * published port 22 is a real TCP listener on 127.0.0.1 that sends an SSH banner
 * while the container's "sshd" is up, and (like the engine's port proxy) accepts and
 * hangs up when it is not. core's waitForSshd then probes it exactly as it probes a
 * real env, so production code needs no probe seam.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
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
  ImageInfo,
  PortBinding,
  ProgressSink,
  VolumeInfo,
} from '../../src/engine/engine.js';
import { ContainerNameConflict, EngineApiError } from '../../src/engine/engine.js';
import type { EngineEndpoint } from '../../src/engine/endpoint.js';
import { ENTRYPOINT, SSHD_BINARY, SSHD_CONFIG, START_SSHD } from '../../src/core/provision.js';

export interface FsNode {
  kind: 'file' | 'dir';
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** A path -> node map; paths are absolute ('/etc/passwd'), relative to the store's root. */
export type FileTree = Map<string, FsNode>;

export interface FakeImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  files: FileTree;
  user: string;
  env: string[];
  createdAt: string;
}

export interface FakeVolume {
  name: string;
  labels: Record<string, string>;
  files: FileTree;
}

/** How the container's "sshd" behaves; a test changes these to inject faults. */
export interface SshdBehaviour {
  /** sshd comes up when the container starts. */
  onStart: boolean;
  /** Healing's START_SSHD exec brings it up. */
  onExec: boolean;
  /** The container exits at once on start (its sshd cannot run at all), with this code and log line. */
  exitOnStart?: { code: number; log: string };
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  imageId: string;
  state: ContainerState;
  createdAt: string;
  startedAt: string | undefined;
  exitCode: number | undefined;
  ports: PortBinding[];
  rootfs: FileTree;
  logs: string[];
  sshdUp: boolean;
  sshd: SshdBehaviour;
  server: Server | undefined;
}

export interface ExecCall {
  container: FakeContainer;
  cmd: string[];
  user: string | undefined;
  env: string[];
  workdir: string | undefined;
  tty: boolean;
  /** The exec's input, when it asked for stdin. */
  stdin: Readable | undefined;
}

export interface ExecResult {
  code: number;
  stdout?: string;
  stderr?: string;
}

/** Answers an exec, or returns undefined to leave it to the next handler (and finally the built-ins). */
export type ExecHandler = (call: ExecCall, engine: FakeEngine) => ExecResult | undefined | Promise<ExecResult | undefined>;

export interface Call {
  method: string;
  args: unknown[];
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const hexId = () => randomBytes(32).toString('hex');
const now = () => new Date().toISOString();

export function fileNode(content: string | Buffer, mode = 0o644, uid = 0, gid = 0): FsNode {
  return { kind: 'file', content: Buffer.from(content), mode, uid, gid };
}

export class FakeEngine implements Engine {
  readonly endpoint: EngineEndpoint = { kind: 'unix', url: 'unix:///fake/docker.sock', socketPath: '/fake/docker.sock' };
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, FakeImage>();
  readonly volumes = new Map<string, FakeVolume>();
  /** Every Engine call, in order. */
  readonly calls: Call[] = [];
  /** Every exec, in order (also those the handlers refused). */
  readonly execs: { containerId: string; cmd: string[]; user: string | undefined; env: string[] }[] = [];
  /** Images `pullImage` can fetch, by reference. */
  readonly registry = new Map<string, Omit<FakeImage, 'id' | 'tags' | 'createdAt'>>();
  resourcesAnswer: EngineResources = { cpus: 4, memory: 8 * 1024 ** 3 };
  /** What the next container created gets as its sshd's behaviour. */
  sshdDefaults: SshdBehaviour = { onStart: true, onExec: true };

  private readonly handlers: ExecHandler[] = [];
  private readonly failures: { method: string; error: Error }[] = [];
  private readonly sockets = new Set<Socket>();

  // ---- test controls -------------------------------------------------------------------

  /** Adds a handler in front of the others (the newest answers first). */
  onExec(handler: ExecHandler): void {
    this.handlers.unshift(handler);
  }

  /** The next call of `method` throws `error` instead of doing anything. */
  failNext(method: keyof Engine, error: Error): void {
    this.failures.push({ method, error });
  }

  /** Adds an image under `tags`; returns its id. */
  addImage(tags: string[], options: { files?: Record<string, string | FsNode>; labels?: Record<string, string>; user?: string; env?: string[] } = {}): string {
    const id = `sha256:${hexId()}`;
    const files: FileTree = new Map();
    for (const [path, f] of Object.entries(options.files ?? {})) files.set(path, typeof f === 'string' ? fileNode(f) : f);
    for (const tag of tags) this.untag(tag);
    this.images.set(id, { id, tags: tags.map(normalTag), labels: options.labels ?? {}, files, user: options.user ?? '', env: options.env ?? [], createdAt: now() });
    return id;
  }

  /** A Debian-like image with sshd, tmux and the user `dev` (uid 1000). */
  addSshImage(tags: string[], extra: Record<string, string | FsNode> = {}): string {
    return this.addImage(tags, {
      files: {
        [SSHD_BINARY]: fileNode('sshd', 0o755),
        '/usr/bin/tmux': fileNode('tmux', 0o755),
        '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\ndev:x:1000:1000::/home/dev:/bin/bash\n',
        ...extra,
      },
    });
  }

  container(nameOrId: string): FakeContainer | undefined {
    const byName = [...this.containers.values()].find((c) => c.name === nameOrId);
    if (byName) return byName;
    const byId = [...this.containers.values()].filter((c) => c.id.startsWith(nameOrId));
    return byId.length === 1 ? byId[0] : undefined;
  }

  /** The env's container by its spoon name label. */
  envContainer(envName: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.spec.labels['dev.spoon.name'] === envName);
  }

  /** sshd dies; the container stays up (what healing's first step is for). */
  killSshd(nameOrId: string): void {
    this.must(nameOrId).sshdUp = false;
  }

  /** The container's main process exits (as when it is killed on its host). */
  crash(nameOrId: string, code = 137, log?: string): void {
    const c = this.must(nameOrId);
    if (log) c.logs.push(log);
    this.halt(c, code);
  }

  /** The file at `path` as the container sees it (volumes mounted), or undefined. */
  fileIn(nameOrId: string, path: string): string | undefined {
    const c = this.must(nameOrId);
    const { tree, key } = this.resolve(c, path);
    const node = tree.get(key);
    return node?.kind === 'file' ? node.content.toString('utf8') : undefined;
  }

  /** Names of the Engine methods called, in order (optionally only these). */
  methods(...only: string[]): string[] {
    return this.calls.map((c) => c.method).filter((m) => only.length === 0 || only.includes(m));
  }

  /** Stops the listeners it opened; call it when a test ends. */
  close(): void {
    for (const c of this.containers.values()) this.closePorts(c);
    for (const s of this.sockets) s.destroy();
  }

  // ---- Engine --------------------------------------------------------------------------

  async describe(): Promise<string> {
    await this.enter('describe', []);
    return 'Fake 1.0 (API 1.41)';
  }

  async resources(): Promise<EngineResources> {
    await this.enter('resources', []);
    return this.resourcesAnswer;
  }

  async listContainers(labels: Record<string, string | true>): Promise<ContainerInfo[]> {
    await this.enter('listContainers', [labels]);
    return [...this.containers.values()].filter((c) => matches(c.spec.labels, labels)).map((c) => this.info(c, true));
  }

  async inspectContainer(nameOrId: string): Promise<ContainerInfo | undefined> {
    await this.enter('inspectContainer', [nameOrId]);
    const c = this.container(nameOrId);
    return c ? this.info(c, false) : undefined;
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    await this.enter('createContainer', [spec]);
    if (this.container(spec.name)?.name === spec.name) throw new ContainerNameConflict(spec.name);
    const image = this.image(spec.image);
    if (!image) throw new EngineApiError(404, `No such image: ${spec.image}`, 'creating the container');
    for (const m of spec.mounts) {
      if (m.type === 'volume' && m.source && !this.volumes.has(m.source)) this.volumes.set(m.source, { name: m.source, labels: {}, files: new Map() });
    }
    const id = hexId();
    this.containers.set(id, {
      id,
      name: spec.name,
      spec: structuredClone(spec),
      imageId: image.id,
      state: 'created',
      createdAt: now(),
      startedAt: undefined,
      exitCode: undefined,
      ports: [],
      rootfs: cloneTree(image.files),
      logs: [],
      sshdUp: false,
      sshd: { ...this.sshdDefaults },
      server: undefined,
    });
    return id;
  }

  async putFiles(id: string, dirs: DirEntry[], files: FileEntry[]): Promise<void> {
    await this.enter('putFiles', [id, dirs, files]);
    const c = this.mustExist(id, 'putting files into the container');
    for (const d of dirs) this.write(c, d.path, { kind: 'dir', content: Buffer.alloc(0), mode: d.mode, uid: d.uid ?? 0, gid: d.gid ?? 0 });
    for (const f of files) this.write(c, f.path, { kind: 'file', content: Buffer.from(f.content), mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0 });
  }

  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    await this.enter('readFile', [id, path]);
    const c = this.mustExist(id, 'reading a file');
    const { tree, key } = this.resolve(c, path);
    const node = tree.get(key);
    return node?.kind === 'file' ? Buffer.from(node.content) : undefined;
  }

  async pathExists(id: string, path: string): Promise<boolean> {
    await this.enter('pathExists', [id, path]);
    const c = this.mustExist(id, 'checking a path');
    return this.view(c).has(path) || [...this.view(c).keys()].some((p) => p.startsWith(`${path}/`));
  }

  async startContainer(id: string): Promise<void> {
    await this.enter('startContainer', [id]);
    const c = this.mustExist(id, 'starting the container');
    if (c.state === 'running') return;
    if (c.state === 'paused') throw new EngineApiError(409, 'cannot start a paused container, try unpause instead', 'starting the container');
    await this.boot(c);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.enter('stopContainer', [id, timeoutSeconds]);
    const c = this.mustExist(id, 'stopping the container');
    if (c.state === 'running' || c.state === 'paused') this.halt(c, 0);
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.enter('restartContainer', [id, timeoutSeconds]);
    const c = this.mustExist(id, 'restarting the container');
    if (c.state === 'running' || c.state === 'paused') this.halt(c, 0);
    await this.boot(c);
  }

  async renameContainer(nameOrId: string, newName: string): Promise<boolean> {
    await this.enter('renameContainer', [nameOrId, newName]);
    const c = this.container(nameOrId);
    if (!c) return false;
    if ([...this.containers.values()].some((o) => o !== c && o.name === newName)) throw new ContainerNameConflict(newName);
    c.name = newName;
    return true;
  }

  async removeContainer(id: string): Promise<void> {
    await this.enter('removeContainer', [id]);
    const c = this.container(id);
    if (!c) return;
    this.closePorts(c);
    this.containers.delete(c.id);
  }

  async containerLogs(id: string, tail: number): Promise<string> {
    await this.enter('containerLogs', [id, tail]);
    const c = this.mustExist(id, 'reading the logs');
    return c.logs.slice(-tail).map((l) => `${l}\n`).join('');
  }

  async processes(id: string): Promise<string[] | undefined> {
    await this.enter('processes', [id]);
    const c = this.container(id);
    if (!c || c.state !== 'running') return undefined;
    const main = [...c.spec.entrypoint, ...c.spec.cmd].join(' ');
    return [main, ...(c.sshdUp ? [`${SSHD_BINARY} -D -e -f ${SSHD_CONFIG}`] : [])];
  }

  async exec(id: string, spec: ExecSpec): Promise<ExecProcess> {
    await this.enter('exec', [id, spec]);
    const c = this.mustExist(id, 'starting an exec');
    if (c.state !== 'running') throw new EngineApiError(409, `Container ${c.id} is not running`, 'starting an exec');
    this.execs.push({ containerId: c.id, cmd: [...spec.cmd], user: spec.user, env: [...(spec.env ?? [])] });
    const stdout = new PassThrough();
    const stderr = spec.tty ? undefined : new PassThrough();
    const stdin = spec.stdin ? new PassThrough() : undefined;
    const call: ExecCall = { container: c, cmd: spec.cmd, user: spec.user, env: spec.env ?? [], workdir: spec.workdir, tty: spec.tty, stdin };
    const result = (async () => {
      const r = await this.answer(call);
      stdout.end(spec.tty ? `${r.stdout ?? ''}${r.stderr ?? ''}` : (r.stdout ?? ''));
      stderr?.end(r.stderr ?? '');
      return r.code;
    })();
    const ended = (s: Readable | undefined) => (s && !s.readableEnded ? new Promise<void>((resolve) => s.once('end', resolve)) : Promise.resolve());
    return {
      stdout,
      stderr,
      stdin,
      resize: async () => undefined,
      wait: async () => {
        const code = await result;
        await Promise.all([ended(stdout), ended(stderr)]);
        return code;
      },
      close: () => undefined,
    };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    await this.enter('inspectImage', [ref]);
    const img = this.image(ref);
    return img ? imageInfo(img) : undefined;
  }

  async listImages(labels: Record<string, string | true>): Promise<ImageInfo[]> {
    await this.enter('listImages', [labels]);
    return [...this.images.values()].filter((i) => matches(i.labels, labels)).map(imageInfo);
  }

  async pullImage(ref: string, progress: ProgressSink): Promise<void> {
    await this.enter('pullImage', [ref]);
    const found = this.registry.get(ref);
    if (!found) throw new EngineApiError(404, `pull access denied for ${ref}, repository does not exist`, `pulling ${ref}`);
    progress(`pulled ${ref}`);
    const id = this.addImage([ref], { labels: found.labels, user: found.user, env: found.env });
    this.images.get(id)!.files = cloneTree(found.files);
  }

  async buildImage(request: BuildRequest, progress: ProgressSink): Promise<string> {
    await this.enter('buildImage', [request]);
    progress(`built ${request.tag}`);
    return this.addSshImage([request.tag]);
  }

  async commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string> {
    await this.enter('commitContainer', [id, options]);
    const c = this.mustExist(id, 'committing the container');
    const from = this.images.get(c.imageId);
    const imageId = this.addImage([`${options.repo}:${options.tag}`], { labels: { ...(from?.labels ?? {}), ...c.spec.labels, ...options.labels }, user: c.spec.user ?? '' });
    // Only the container's own layer: volumes are not part of a commit.
    this.images.get(imageId)!.files = cloneTree(c.rootfs);
    return imageId;
  }

  async removeImage(ref: string): Promise<void> {
    await this.enter('removeImage', [ref]);
    const img = this.image(ref);
    if (!img) return;
    if ([...this.containers.values()].some((c) => c.imageId === img.id) && img.tags.length <= 1) {
      throw new EngineApiError(409, `conflict: unable to remove ${ref}: image is being used by a container`, `removing image ${ref}`);
    }
    img.tags = img.tags.filter((t) => t !== normalTag(ref));
    if (img.tags.length === 0 || ref === img.id) this.images.delete(img.id);
  }

  async pauseContainer(id: string): Promise<void> {
    await this.enter('pauseContainer', [id]);
    const c = this.mustExist(id, 'pausing the container');
    if (c.state !== 'running') throw new EngineApiError(409, `Container ${c.id} is not running`, 'pausing the container');
    c.state = 'paused';
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.enter('unpauseContainer', [id]);
    const c = this.mustExist(id, 'resuming the container');
    if (c.state !== 'paused') throw new EngineApiError(409, `Container ${c.id} is not paused`, 'resuming the container');
    c.state = 'running';
  }

  async copyPath(fromId: string, fromPath: string, toId: string, toPath: string): Promise<void> {
    await this.enter('copyPath', [fromId, fromPath, toId, toPath]);
    const from = this.mustExist(fromId, 'copying out of the container');
    const to = this.mustExist(toId, 'copying into the container');
    for (const [path, node] of this.view(from)) {
      if (path === fromPath || path.startsWith(`${fromPath}/`)) this.write(to, toPath + path.slice(fromPath.length), { ...node, content: Buffer.from(node.content) });
    }
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.enter('ensureVolume', [name, labels]);
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels: { ...labels }, files: new Map() });
  }

  async listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]> {
    await this.enter('listVolumes', [labels]);
    return [...this.volumes.values()].filter((v) => matches(v.labels, labels)).map((v) => ({ name: v.name, labels: { ...v.labels } }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.enter('removeVolume', [name]);
    if (!this.volumes.has(name)) return;
    const user = [...this.containers.values()].find((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (user) throw new EngineApiError(409, `remove ${name}: volume is in use - [${user.id}]`, `removing volume ${name}`);
    this.volumes.delete(name);
  }

  // ---- the model -----------------------------------------------------------------------

  /** Records the call, yields once (so concurrent callers interleave as with a real engine), and throws an injected failure. */
  private async enter(method: string, args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    await tick();
    const i = this.failures.findIndex((f) => f.method === method);
    if (i >= 0) {
      const [failure] = this.failures.splice(i, 1);
      throw failure!.error;
    }
  }

  private must(nameOrId: string): FakeContainer {
    const c = this.container(nameOrId);
    if (!c) throw new Error(`fake engine: no container ${nameOrId}`);
    return c;
  }

  private mustExist(nameOrId: string, what: string): FakeContainer {
    const c = this.container(nameOrId);
    if (!c) throw new EngineApiError(404, `No such container: ${nameOrId}`, what);
    return c;
  }

  private image(ref: string): FakeImage | undefined {
    return this.images.get(ref) ?? [...this.images.values()].find((i) => i.tags.includes(normalTag(ref)) || i.id === `sha256:${ref}`);
  }

  private untag(tag: string): void {
    for (const img of this.images.values()) img.tags = img.tags.filter((t) => t !== normalTag(tag));
  }

  private info(c: FakeContainer, fromList: boolean): ContainerInfo {
    const image = this.images.get(c.imageId);
    return {
      id: c.id,
      name: c.name,
      state: c.state,
      image: c.spec.image,
      imageId: image?.id ?? c.imageId,
      labels: { ...c.spec.labels },
      ports: c.ports.map((p) => ({ ...p })),
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      ...(fromList ? { status: c.state === 'running' ? 'Up' : c.state === 'created' ? 'Created' : `Exited (${c.exitCode ?? 0})` } : { exitCode: c.exitCode ?? 0 }),
    };
  }

  /** Starts the container: its ports are published (new host ports each start), then its sshd comes up, or it exits. */
  private async boot(c: FakeContainer): Promise<void> {
    c.state = 'running';
    c.startedAt = now();
    c.exitCode = undefined;
    await this.openPorts(c);
    const sshMode = JSON.stringify(c.spec.entrypoint) === JSON.stringify(ENTRYPOINT);
    if (!sshMode) return;
    if (c.sshd.exitOnStart) {
      c.logs.push(c.sshd.exitOnStart.log);
      this.halt(c, c.sshd.exitOnStart.code);
      return;
    }
    c.sshdUp = c.sshd.onStart && this.view(c).has(SSHD_CONFIG);
    if (!c.sshdUp) c.logs.push('sshd: no hostkeys available -- exiting.');
  }

  private halt(c: FakeContainer, code: number): void {
    c.state = 'stopped';
    c.exitCode = code;
    c.sshdUp = false;
    this.closePorts(c);
  }

  private async openPorts(c: FakeContainer): Promise<void> {
    c.ports = [];
    for (const p of c.spec.publish) {
      if (p.container === 22 && p.protocol === 'tcp') {
        const server = createServer((sock) => this.greet(c, sock));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(p.host ?? 0, '127.0.0.1', () => resolve());
        });
        server.unref();
        c.server = server;
        const address = server.address();
        c.ports.push({ container: 22, protocol: 'tcp', host: typeof address === 'object' && address ? address.port : null, hostIp: p.hostIp });
      } else {
        c.ports.push({ container: p.container, protocol: p.protocol, host: p.host ?? 40000 + Math.floor(Math.random() * 20000), hostIp: p.hostIp });
      }
    }
  }

  private closePorts(c: FakeContainer): void {
    c.server?.close();
    c.server = undefined;
    c.ports = [];
  }

  /** Like sshd behind the engine's port proxy: a banner when sshd is up, hung up at once when not, silence while paused. */
  private greet(c: FakeContainer, sock: Socket): void {
    this.sockets.add(sock);
    sock.unref();
    sock.on('error', () => undefined);
    sock.on('close', () => this.sockets.delete(sock));
    if (c.state === 'paused') return;
    if (c.state === 'running' && c.sshdUp) sock.write('SSH-2.0-OpenSSH_9.2p1 fake\r\n');
    else sock.destroy();
  }

  private async answer(call: ExecCall): Promise<ExecResult> {
    for (const h of this.handlers) {
      const r = await h(call, this);
      if (r) return r;
    }
    return this.builtin(call);
  }

  /** What any container answers without a script: healing's sshd start, and `cat`. */
  private builtin(call: ExecCall): ExecResult {
    const c = call.container;
    if (JSON.stringify(call.cmd) === JSON.stringify(START_SSHD)) {
      if (!c.sshd.onExec) return { code: 1, stderr: 'sshd: fatal: cannot bind port 22' };
      c.sshdUp = true;
      return { code: 0 };
    }
    if (call.cmd[0] === 'cat' && call.cmd.length === 2) {
      const { tree, key } = this.resolve(c, call.cmd[1]!);
      const node = tree.get(key);
      return node?.kind === 'file' ? { code: 0, stdout: node.content.toString('utf8') } : { code: 1, stderr: `cat: ${call.cmd[1]}: No such file or directory` };
    }
    return { code: 127, stderr: `fake engine: no exec handler answers ${JSON.stringify(call.cmd)}` };
  }

  /** Where `path` lives: the volume mounted over it (longest mount target), else the container's own layer. */
  private resolve(c: FakeContainer, path: string): { tree: FileTree; key: string } {
    let best: { target: string; tree: FileTree } | undefined;
    for (const m of c.spec.mounts) {
      if (m.type !== 'volume' || !m.source) continue;
      if ((path === m.target || path.startsWith(`${m.target}/`)) && (!best || m.target.length > best.target.length)) {
        const v = this.volumes.get(m.source);
        if (v) best = { target: m.target, tree: v.files };
      }
    }
    if (!best) return { tree: c.rootfs, key: path };
    return { tree: best.tree, key: path.slice(best.target.length) || '/' };
  }

  private write(c: FakeContainer, path: string, node: FsNode): void {
    const { tree, key } = this.resolve(c, path);
    tree.set(key, node);
  }

  /** Every path the container sees, volumes mounted over its own layer. */
  private view(c: FakeContainer): FileTree {
    const out: FileTree = new Map();
    const mounts = c.spec.mounts.filter((m) => m.type === 'volume' && m.source && this.volumes.has(m.source));
    for (const [p, n] of c.rootfs) if (!mounts.some((m) => p === m.target || p.startsWith(`${m.target}/`))) out.set(p, n);
    for (const m of mounts) {
      for (const [p, n] of this.volumes.get(m.source)!.files) out.set(p === '/' ? m.target : m.target + p, n);
    }
    return out;
  }
}

function matches(have: Record<string, string>, want: Record<string, string | true>): boolean {
  return Object.entries(want).every(([k, v]) => (v === true ? k in have : have[k] === v));
}

function normalTag(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  return /:[^/]+$/.test(ref) ? ref : `${ref}:latest`;
}

function cloneTree(tree: FileTree): FileTree {
  return new Map([...tree].map(([p, n]) => [p, { ...n, content: Buffer.from(n.content) }]));
}

function imageInfo(i: FakeImage): ImageInfo {
  const size = [...i.files.values()].reduce((sum, n) => sum + n.content.length, 0);
  return { id: i.id, tags: [...i.tags], labels: { ...i.labels }, size, createdAt: i.createdAt, user: i.user, env: [...i.env] };
}
