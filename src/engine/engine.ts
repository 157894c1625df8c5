/**
 * The Engine interface in spoon's own types. core/ depends on this, never on the
 * Docker API's shapes; docker/ is the one implementation (Podman speaks the same API).
 */
import type { Readable, Writable } from 'node:stream';
import type { EngineEndpoint } from './endpoint.js';
import { RuntimeError } from '../errors.js';

export type ContainerState = 'running' | 'stopped' | 'created' | 'dead' | 'paused' | 'restarting' | 'removing';

export interface PortBinding {
  container: number;
  protocol: 'tcp' | 'udp';
  host: number | null;
  hostIp: string | null;
}

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  state: ContainerState;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  ports: PortBinding[];
  createdAt: string;
  /** ISO time of the last start, or undefined when it never started. */
  startedAt: string | undefined;
  /** Only from list: the engine's words for the state and uptime ("Up 5 minutes"). */
  status?: string;
  /** Only from inspect: exit info. */
  exitCode?: number;
  error?: string;
  /** The cluster node the env runs on (the swarm backend); undefined on a plain engine. */
  node?: NodeInfo;
}

export interface NodeInfo {
  id: string;
  hostname: string;
  /** Where the node's published ports are reached. */
  addr: string;
  /** The node's state as the cluster sees it: ready, down, unknown, disconnected. */
  state: string;
  /** active, pause or drain. */
  availability: string;
}

export interface EngineResources {
  /** NCPU. */
  cpus: number;
  /** MemTotal, in bytes. */
  memory: number;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  size: number;
  createdAt: string;
  /** Only from inspect: the image's USER ('' when it sets none) and ENV entries (`K=V`). */
  user?: string;
  env?: string[];
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export interface PublishSpec {
  container: number;
  protocol: 'tcp' | 'udp';
  /** undefined = let the engine choose. */
  host: number | undefined;
  hostIp: string;
}

export interface MountSpec {
  type: 'volume' | 'bind';
  /** Host path (bind), volume name, or '' for an anonymous volume. */
  source: string;
  target: string;
  readOnly?: boolean;
}

/** Resource limits and security settings (all optional: the engine's defaults otherwise). */
export interface HostSettings {
  cpus?: number;
  cpuShares?: number;
  /** Bytes. */
  memory?: number;
  dns?: string[];
  privileged?: boolean;
  capAdd?: string[];
  securityOpt?: string[];
  init?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  user?: string;
  hostname?: string;
  env?: string[];
  publish: PublishSpec[];
  mounts: MountSpec[];
  host?: HostSettings;
  /** The `node` setting: which cluster node a new env goes on (the swarm backend; a plain engine has one). */
  node?: string;
}

/** A file to put into a container through the archive API. */
export interface FileEntry {
  /** Absolute path in the container. */
  path: string;
  content: string | Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

export interface DirEntry {
  path: string;
  mode: number;
  uid?: number;
  gid?: number;
}

export type ProgressSink = (line: string) => void;

export interface BuildRequest {
  tag: string;
  labels: Record<string, string>;
  /** Path of the Dockerfile inside the context (default: Dockerfile). */
  dockerfile?: string;
  args?: Record<string, string>;
  target?: string;
  /** Build context files, paths relative to the context root. */
  files: { path: string; content: string | Buffer; mode: number }[];
}

/** A command to run in a running container through the engine (no sshd needed). */
export interface ExecSpec {
  /** argv as is: no shell parses it. */
  cmd: string[];
  /** User (name or uid[:gid]); the container's user otherwise. */
  user?: string;
  /** `KEY=value` entries added to the container's environment. */
  env?: string[];
  workdir?: string;
  /** Run the command on a pseudo-terminal: stdout and stderr are then one stream. */
  tty: boolean;
  /** Attach stdin. */
  stdin: boolean;
}

/**
 * A running exec. Read (or resume) stdout and stderr: like a child process's pipes,
 * output that nobody reads holds the command up, and wait() resolves only after
 * the output has ended.
 */
export interface ExecProcess {
  stdout: Readable;
  /** undefined with a TTY (the terminal has one output stream). */
  stderr: Readable | undefined;
  /** undefined when stdin was not asked for. end() sends EOF to the command. */
  stdin: Writable | undefined;
  /** Sets the terminal size (TTY only). */
  resize(cols: number, rows: number): Promise<void>;
  /** The command's exit status, once its output has ended. */
  wait(): Promise<number>;
  /** Drops the connection (the command itself may keep running in the container). */
  close(): void;
}

export interface Engine {
  readonly endpoint: EngineEndpoint;
  /** The engine's product and API version, e.g. "Docker 20.10.24 (API 1.41)". */
  describe(): Promise<string>;
  /** What the engine's host offers containers (GET /info): its CPUs and memory. */
  resources(): Promise<EngineResources>;

  listContainers(labels: Record<string, string | true>): Promise<ContainerInfo[]>;
  inspectContainer(nameOrId: string): Promise<ContainerInfo | undefined>;
  /** Throws ContainerNameConflict when the name is taken. */
  createContainer(spec: ContainerSpec): Promise<string>;
  putFiles(id: string, dirs: DirEntry[], files: FileEntry[]): Promise<void>;
  readFile(id: string, path: string): Promise<Buffer | undefined>;
  pathExists(id: string, path: string): Promise<boolean>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /**
   * Renames a container, atomically: false when no container has that name or id (someone
   * else renamed or removed it first); throws ContainerNameConflict when `newName` is taken.
   */
  renameContainer(nameOrId: string, newName: string): Promise<boolean>;
  containerLogs(id: string, tail: number): Promise<string>;
  /** The command lines of the processes running in the container; undefined when it is not running or the engine's answer is unreadable. */
  processes(id: string): Promise<string[] | undefined>;
  /** Runs a command in a running container through the engine, streaming its input and output. */
  exec(id: string, spec: ExecSpec): Promise<ExecProcess>;

  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  listImages(labels: Record<string, string | true>): Promise<ImageInfo[]>;
  pullImage(ref: string, progress: ProgressSink): Promise<void>;
  buildImage(request: BuildRequest, progress: ProgressSink): Promise<string>;

  /** Commits the container's filesystem to image repo:tag (the image keeps the container's config). Returns the image id. */
  commitContainer(id: string, options: { repo: string; tag: string; labels: Record<string, string> }): Promise<string>;
  /** Removes an image by reference (untags it; deletes it when no tag is left). 404 is not an error. */
  removeImage(ref: string): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /**
   * Streams the directory `fromPath` of container `fromId` to `toPath` of container
   * `toId` through the archive API (either may be created and never started: their
   * volumes are mounted for archive operations). Content, modes, owners, symlinks and
   * times are kept; what `toPath` already holds and the copy lacks is left as it is.
   */
  copyPath(fromId: string, fromPath: string, toId: string, toPath: string): Promise<void>;

  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]>;
  removeVolume(name: string): Promise<void>;
}

/** Creating a container whose name another container already has. */
export class ContainerNameConflict extends Error {
  constructor(readonly containerName: string) {
    super(`a container named ${containerName} already exists`);
  }
}

/** An error status from the engine, with the engine's own message. */
export class EngineApiError extends RuntimeError {
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    what: string,
  ) {
    super(`${what}: ${engineMessage || `engine answered HTTP ${status}`}`);
  }
}
