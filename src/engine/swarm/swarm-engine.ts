/**
 * The Engine interface over a Docker Swarm manager's API. An env is a one-replica
 * service (replicas 0 = stopped): ContainerInfo.id is the service id, which outlives
 * its tasks. Only the manager is reachable, and it cannot exec in, copy into or commit
 * a task's container on a node, so:
 * - files put in before the first start become a Swarm config (a tar, and a secret for
 *   the private ones) that a seed script unpacks at every task start (a new task is a
 *   fresh container), before the normal entrypoint;
 * - after that, exec and file access go over the env's own sshd as root, with a key
 *   certified by the env's own user CA (control-ssh.ts); the CA's private key is a
 *   Swarm config, so whoever has the manager's API (root on every node anyway) can use it;
 * - reads of the image before the first start use a throwaway container on the
 *   manager's own engine (the image must be there too);
 * - an env stays on the node that holds its volumes: the service is pinned to that node
 *   after its first placement, and a small Swarm config `<service>-place` remembers the
 *   node across destroy until its volumes are removed.
 */
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
  NodeInfo,
  ProgressSink,
  VolumeInfo,
} from '../engine.js';
import { ContainerNameConflict, EngineApiError } from '../engine.js';
import type { EngineEndpoint } from '../endpoint.js';
import { DockerHttp, drain, type RequestObserver } from '../docker/http.js';
import { DockerEngine, demuxLogs } from '../docker/docker-engine.js';
import { RuntimeError, UsageError } from '../../errors.js';
import { generateEd25519 } from '../../ssh/keys.js';
import { controlExec, controlFiles, controlPutFiles, controlReadFile, withControlLines, type ControlTarget } from './control-ssh.js';

/** Labels spoon's Swarm backend keeps on a service and its configs. */
const SW = {
  /** The env's host public key, so anyone with the manager pins it without an exec. */
  hostKey: 'dev.spoon.swarm.host-key',
  /** The name of the config that holds the env's user CA private key. */
  ca: 'dev.spoon.swarm.ca',
  /** The service's files went in (its first start happened). */
  seeded: 'dev.spoon.swarm.seeded',
  /** The node the env and its volumes are on. */
  node: 'dev.spoon.swarm.node',
  /** On configs and secrets: the service they belong to (removed with it). */
  of: 'dev.spoon.swarm.of',
  /** On the placement record config: the service name it is for. */
  place: 'dev.spoon.swarm.place',
} as const;

const SEED_DIR = '/etc/spoon-seed';
const SECRET_NAME = 'spoon-seed-secret.tar';
/** spoon's files live in /etc/spoon; there it is a volume, so what a task changes (joined keys, guests) outlives it. */
const SPOON_DIR = '/etc/spoon';
const PROVISIONED = `${SPOON_DIR}/provisioned`;
const SSHD_CONFIG = `${SPOON_DIR}/sshd_config`;
const AUTHORIZED_DIR = `${SPOON_DIR}/authorized_keys/`;
const TASK_WAIT_MS = 120_000;

/**
 * Unpacks the seed at every task start, then runs the env's own entrypoint ("$@").
 * The once.tar (authorized keys) does not overwrite what the volume kept from an
 * earlier task of this service (a member who joined since); a new service starts clean.
 */
const SEED_SCRIPT = `set -e
if [ "$(cat ${PROVISIONED} 2>/dev/null)" != "$SPOON_SERVICE_ID" ]; then rm -rf ${SPOON_DIR}/authorized_keys ${SPOON_DIR}/guests; fi
tar -xpf ${SEED_DIR}/once.tar --numeric-owner --skip-old-files -C /
tar -xpf ${SEED_DIR}/always.tar --numeric-owner -C /
[ ! -f /run/secrets/${SECRET_NAME} ] || tar -xpf /run/secrets/${SECRET_NAME} --numeric-owner -C /
exec "$@"`;

interface ApiMount {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { Labels?: Record<string, string> };
}
interface ApiServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      User?: string;
      Hostname?: string;
      Env?: string[];
      Mounts?: ApiMount[];
      Init?: boolean;
      CapabilityAdd?: string[];
      DNSConfig?: { Nameservers?: string[] };
      Configs?: { File: { Name: string; UID: string; GID: string; Mode: number }; ConfigID: string; ConfigName: string }[];
      Secrets?: { File: { Name: string; UID: string; GID: string; Mode: number }; SecretID: string; SecretName: string }[];
    };
    Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number }; Reservations?: { NanoCPUs?: number; MemoryBytes?: number } };
    RestartPolicy?: { Condition: string; Delay?: number; MaxAttempts?: number };
    Placement?: { Constraints?: string[] };
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } };
  EndpointSpec?: { Mode?: string; Ports?: { Protocol: string; TargetPort: number; PublishedPort?: number; PublishMode: string }[] };
}
export interface ApiService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  Spec: ApiServiceSpec;
}
export interface ApiTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState: string;
  CreatedAt: string;
  Version: { Index: number };
  Status: {
    Timestamp: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { Protocol: string; TargetPort: number; PublishedPort: number; PublishMode: string }[] };
  };
}
export interface ApiNode {
  ID: string;
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
  Status: { State: string; Addr?: string; Message?: string };
  Spec: { Availability: string; Labels?: Record<string, string>; Role?: string };
  ManagerStatus?: { Addr?: string };
}
interface ApiConfig {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}
interface PlaceRecord {
  node: string;
  image: string;
  volumes: VolumeInfo[];
}

export class SwarmEngine implements Engine {
  private readonly http: DockerHttp;
  /** The manager's own dockerd: images, and throwaway containers to read an image before a first start. */
  private readonly local: DockerEngine;
  private checked: Promise<void> | undefined;
  /** Files put into a service before its first start (this process made it): they become its seed. */
  private readonly pending = new Map<string, { dirs: DirEntry[]; files: FileEntry[] }>();
  /** Labels of the volumes this process was asked to make, for the service's volume mounts. */
  private readonly volumeLabels = new Map<string, Record<string, string>>();
  private readonly targets = new Map<string, Promise<ControlTarget>>();

  constructor(
    readonly endpoint: EngineEndpoint,
    observe?: RequestObserver,
  ) {
    this.http = new DockerHttp(endpoint, observe);
    this.local = new DockerEngine(endpoint, observe);
  }

  /** The engine must be a Swarm manager: said once, before anything else is asked. */
  private ready(): Promise<void> {
    this.checked ??= (async () => {
      const info = await this.http.json<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }>('GET', '/info', 'reading the engine info');
      if (info?.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
        throw new RuntimeError(`the engine at ${this.endpoint.url} is not a Swarm manager (backend = "swarm")`, {
          hint: 'point --engine / DOCKER_HOST at a manager of the swarm, or use --backend docker',
        });
      }
    })();
    return this.checked;
  }

  private async json<T>(method: string, path: string, what: string, options: Parameters<DockerHttp['json']>[3] = {}): Promise<T | undefined> {
    await this.ready();
    return this.http.json<T>(method, path, what, options);
  }

  async describe(): Promise<string> {
    const [engine, nodes] = await Promise.all([this.local.describe(), this.nodes()]);
    return `backend swarm: a Docker Swarm manager, ${nodes.length} node${nodes.length === 1 ? '' : 's'}; ${engine}`;
  }

  async resources(): Promise<EngineResources> {
    // What the biggest node offers: an env runs on one node.
    let best: EngineResources = { cpus: 0, memory: 0 };
    for (const n of await this.nodes()) {
      const cpus = (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9;
      const memory = n.Description?.Resources?.MemoryBytes ?? 0;
      if (cpus > best.cpus || (cpus === best.cpus && memory > best.memory)) best = { cpus, memory };
    }
    return best;
  }

  private async nodes(): Promise<ApiNode[]> {
    return (await this.json<ApiNode[]>('GET', '/nodes', 'listing the swarm nodes')) ?? [];
  }

  private async services(filters: Record<string, string[]>): Promise<ApiService[]> {
    return (await this.json<ApiService[]>('GET', '/services', 'listing services', { query: { filters: JSON.stringify(filters) } })) ?? [];
  }

  private async service(nameOrId: string): Promise<ApiService | undefined> {
    return this.json<ApiService>('GET', `/services/${encodeURIComponent(nameOrId)}`, `inspecting service ${nameOrId}`, { accept: [404] });
  }

  private async tasks(serviceIds: string[]): Promise<ApiTask[]> {
    if (serviceIds.length === 0) return [];
    return (await this.json<ApiTask[]>('GET', '/tasks', 'listing tasks', { query: { filters: JSON.stringify({ service: serviceIds }) } })) ?? [];
  }

  async listContainers(labels: Record<string, string | true>): Promise<ContainerInfo[]> {
    const services = await this.services({ label: labelFilter(labels) });
    const [tasks, nodes] = await Promise.all([this.tasks(services.map((s) => s.ID)), this.nodes()]);
    return this.withImageIds(services.map((s) => toInfo(s, tasks.filter((t) => t.ServiceID === s.ID), nodes)));
  }

  /** The image id as the manager's engine knows the ref (`images` groups envs by it); '' when it lacks the image. */
  private async withImageIds(list: ContainerInfo[]): Promise<ContainerInfo[]> {
    const ids = new Map<string, Promise<string>>();
    for (const c of list) if (!ids.has(c.image)) ids.set(c.image, this.local.inspectImage(c.image).then((i) => i?.id ?? '', () => ''));
    return Promise.all(list.map(async (c) => ({ ...c, imageId: (await ids.get(c.image)) ?? '' })));
  }

  async inspectContainer(nameOrId: string): Promise<ContainerInfo | undefined> {
    const s = await this.service(nameOrId);
    if (!s) return undefined;
    const [tasks, nodes] = await Promise.all([this.tasks([s.ID]), this.nodes()]);
    return (await this.withImageIds([toInfo(s, tasks, nodes)]))[0];
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    if (!spec.publish.some((p) => p.container === 22)) {
      throw new UsageError(`image '${spec.image}' has no sshd, which the swarm backend needs: spoon reaches an env on a node only over ssh (the manager cannot exec into it)`, {
        hint: "use an image with sshd and tmux (leave --image unset for spoon's default image)",
      });
    }
    if (spec.host?.privileged) throw new UsageError('privileged = true is not available with the swarm backend: Swarm services cannot run privileged');
    const place = await this.placeRecord(spec.name);
    const nodes = await this.nodes();
    const constraints: string[] = [];
    let pinned: string | undefined;
    if (place) {
      // Its volumes are there: never place it elsewhere with an empty home.
      const node = nodes.find((n) => n.ID === place.node);
      if (!node) throw new RuntimeError(`${spec.name}'s volumes are on node ${place.node}, which is no longer in the swarm`, { hint: 'bring the node back, or `spoon destroy --volumes` the env to start afresh' });
      if (spec.node && !nodeMatches(node, spec.node)) {
        throw new UsageError(`node = "${spec.node}" does not match node ${describeNode(node)}, where ${spec.name}'s volumes are`, { hint: 'leave node unset, or `spoon destroy --volumes` the env first' });
      }
      pinned = node.ID;
    } else if (spec.node) {
      const matching = nodes.filter((n) => nodeMatches(n, spec.node ?? ''));
      if (matching.length === 0) {
        throw new UsageError(`node = "${spec.node}" matches no node of the swarm`, { hint: `use a node id, hostname or label=value; the nodes: ${nodes.map(describeNode).join(', ')}` });
      }
      // One node: the env's volumes live there. Several (a label or shared hostname): Swarm picks, then spoon pins.
      if (matching.length === 1) pinned = matching[0]?.ID;
      else constraints.push(...constraintFor(spec.node));
    }
    if (pinned) constraints.push(`node.id==${pinned}`);
    const labels = { ...spec.labels, ...(pinned ? { [SW.node]: pinned } : {}) };
    const body: ApiServiceSpec = {
      Name: spec.name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: spec.image,
          Labels: spec.labels,
          Command: [...spec.entrypoint, ...spec.cmd],
          ...(spec.user ? { User: spec.user } : {}),
          ...(spec.hostname ? { Hostname: spec.hostname } : {}),
          Env: spec.env ?? [],
          Mounts: spec.mounts.map((m) => ({
            Type: m.type,
            ...(m.source ? { Source: m.source } : {}),
            Target: m.target,
            ReadOnly: m.readOnly ?? false,
            ...(m.type === 'volume' ? { VolumeOptions: { Labels: this.volumeLabels.get(m.source) ?? {} } } : {}),
          })),
          ...(spec.host?.init ? { Init: true } : {}),
          ...(spec.host?.capAdd?.length ? { CapabilityAdd: spec.host.capAdd } : {}),
          ...(spec.host?.dns?.length ? { DNSConfig: { Nameservers: spec.host.dns } } : {}),
        },
        Resources: resourcesOf(spec),
        // A task that exits 0 (idle_stop, `stop` from inside) stays stopped; one that dies is started again.
        RestartPolicy: { Condition: 'on-failure', Delay: 1e9 },
        Placement: { Constraints: constraints },
      },
      Mode: { Replicated: { Replicas: 0 } },
      EndpointSpec: {
        Mode: 'vip',
        // Host mode: the node's own port (the routing mesh is not assumed to work).
        Ports: spec.publish.map((p) => ({ Protocol: p.protocol, TargetPort: p.container, ...(p.host !== undefined ? { PublishedPort: p.host } : {}), PublishMode: 'host' })),
      },
    };
    try {
      const created = await this.json<{ ID: string }>('POST', '/services/create', `creating service ${spec.name}`, { json: body });
      if (!created?.ID) throw new RuntimeError(`creating service ${spec.name}: the manager returned no id`);
      this.pending.set(created.ID, { dirs: [], files: [] });
      return created.ID;
    } catch (err) {
      if (err instanceof EngineApiError && err.status === 409) throw new ContainerNameConflict(spec.name);
      throw err;
    }
  }

  async putFiles(id: string, dirs: DirEntry[], files: FileEntry[]): Promise<void> {
    const pending = this.pending.get(id);
    if (pending) {
      pending.dirs.push(...dirs);
      pending.files.push(...files);
      return;
    }
    await controlPutFiles(await this.control(id), dirs, files);
  }

  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    const pending = this.pending.get(id)?.files.find((f) => f.path === path);
    if (pending) return typeof pending.content === 'string' ? Buffer.from(pending.content) : pending.content;
    const s = await this.service(id);
    if (!s) return undefined;
    if (!(await this.isRunning(s))) return this.readFromImage(s.Spec.TaskTemplate.ContainerSpec.Image, path);
    return controlReadFile(await this.control(id), path);
  }

  async pathExists(id: string, path: string): Promise<boolean> {
    if (this.pending.get(id)?.files.some((f) => f.path === path)) return true;
    const s = await this.service(id);
    if (!s) return false;
    if (!(await this.isRunning(s))) return (await this.readFromImage(s.Spec.TaskTemplate.ContainerSpec.Image, path, true)) !== undefined;
    const p = await controlExec(await this.control(id), { cmd: ['test', '-e', path], tty: false, stdin: false });
    p.stdout.resume();
    p.stderr?.resume();
    return (await p.wait()) === 0;
  }

  private async isRunning(s: ApiService): Promise<boolean> {
    return currentTask(await this.tasks([s.ID]))?.Status.State === 'running';
  }

  /** A file of the image, read through a never started container on the manager's own engine. */
  private async readFromImage(image: string, path: string, existsOnly = false): Promise<Buffer | undefined> {
    if (!(await this.local.inspectImage(image))) {
      throw new RuntimeError(`image '${image}' is not on the swarm manager, where spoon reads it before an env's first start`, {
        hint: 'load or pull the image on the manager too (every node that runs envs needs it)',
      });
    }
    const id = await this.local.createContainer({ name: `spoon-probe-${Math.random().toString(36).slice(2, 10)}`, image, labels: { 'dev.spoon.temporary': 'probe' }, entrypoint: ['/bin/true'], cmd: [], publish: [], mounts: [] });
    try {
      if (existsOnly) return (await this.local.pathExists(id, path)) ? Buffer.alloc(0) : undefined;
      return await this.local.readFile(id, path);
    } finally {
      await this.local.removeContainer(id);
    }
  }

  /** Where and how to reach the env's sshd as root: its node, its published port, its pinned host key and CA. */
  private control(id: string): Promise<ControlTarget> {
    let t = this.targets.get(id);
    if (!t) {
      t = (async () => {
        const c = await this.inspectContainer(id);
        if (!c || c.state !== 'running') throw new RuntimeError(`${c?.name ?? id} is not running, so spoon cannot reach it over ssh`);
        const ssh = c.ports.find((p) => p.container === 22 && p.protocol === 'tcp');
        const hostPublicKey = c.labels[SW.hostKey];
        const caName = c.labels[SW.ca];
        if (!ssh?.host || !c.node || !hostPublicKey || !caName) throw new RuntimeError(`${c.name} has no ssh control access (its service lacks spoon's swarm labels or a published ssh port)`);
        const ca = await this.json<ApiConfig>('GET', `/configs/${encodeURIComponent(caName)}`, `reading the control key of ${c.name}`, { accept: [404] });
        if (!ca?.Spec.Data) throw new RuntimeError(`the control key config ${caName} of ${c.name} is missing`, { hint: 'the env cannot be reached as root; recreate it (`spoon destroy` then `spoon up`, volumes kept)' });
        return { host: c.node.addr, port: ssh.host, hostPublicKey, caPrivateKey: Buffer.from(ca.Spec.Data, 'base64').toString('utf8') };
      })();
      this.targets.set(id, t);
      // A failed lookup is not kept: the next call asks again (the task may be up by then).
      t.catch(() => this.targets.delete(id));
    }
    return t;
  }

  async startContainer(id: string): Promise<void> {
    const s = await this.service(id);
    if (!s) throw new RuntimeError(`service ${id} is gone`);
    const pending = this.pending.get(id);
    if (pending && s.Spec.Labels[SW.seeded] !== 'yes') {
      await this.seed(s, pending);
      this.pending.delete(id);
    } else {
      const before = currentTask(await this.tasks([id]));
      await this.update(id, (spec) => {
        // Already one replica whose task ended (exit 0): only a forced update starts a new task.
        if (spec.Mode.Replicated.Replicas === 1) spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
        spec.Mode.Replicated.Replicas = 1;
      });
      await this.waitRunning(id, before?.ID);
      await this.pinToNode(id);
      return;
    }
    await this.waitRunning(id);
    await this.pinToNode(id);
  }

  /** The first start: the files become configs and a secret, the seed script runs before the entrypoint, and one replica is asked for. */
  private async seed(s: ApiService, files: { dirs: DirEntry[]; files: FileEntry[] }): Promise<void> {
    const { tarBuffer } = await import('./tar-buffer.js');
    const short = s.ID.slice(0, 12);
    const ca = generateEd25519(`spoon-control-ca@${s.Spec.Name}`);
    const hostKey = files.files.find((f) => f.path.endsWith('_key.pub'))?.content.toString().trim();
    const always: FileEntry[] = [];
    const once: FileEntry[] = [];
    const secret: FileEntry[] = [];
    for (const f of [...files.files, ...controlFiles(ca.publicKey)]) {
      if (f.path === SSHD_CONFIG) always.push({ ...f, content: withControlLines(f.content.toString()) });
      else if (f.path.startsWith(AUTHORIZED_DIR)) once.push(f);
      else if ((f.mode & 0o077) === 0) secret.push(f);
      else always.push(f);
    }
    // The marker last, as in the Docker backend's upload.
    always.sort((a, b) => Number(a.path === PROVISIONED) - Number(b.path === PROVISIONED));
    const dirs = files.dirs;
    const of = { [SW.of]: s.ID };
    const mk = async (kind: 'configs' | 'secrets', name: string, data: Buffer, labels: Record<string, string>) => {
      const r = await this.json<{ ID: string }>('POST', `/${kind}/create`, `creating the ${kind === 'configs' ? 'config' : 'secret'} ${name}`, {
        json: { Name: name, Labels: labels, Data: data.toString('base64') },
      });
      if (!r?.ID) throw new RuntimeError(`creating ${name}: the manager returned no id`);
      return r.ID;
    };
    const caName = `${s.Spec.Name}-ca-${short}`;
    await mk('configs', caName, Buffer.from(ca.privateKey), of);
    const cfg = (name: string, id: string, file: string) => ({ File: { Name: file, UID: '0', GID: '0', Mode: 0o400 }, ConfigID: id, ConfigName: name });
    const alwaysName = `${s.Spec.Name}-seed-${short}`;
    const onceName = `${s.Spec.Name}-keys-${short}`;
    const secretName = `${s.Spec.Name}-secret-${short}`;
    const configs = [
      cfg(alwaysName, await mk('configs', alwaysName, await tarBuffer(dirs, always), of), `${SEED_DIR}/always.tar`),
      cfg(onceName, await mk('configs', onceName, await tarBuffer([], once), of), `${SEED_DIR}/once.tar`),
    ];
    const secretId = await mk('secrets', secretName, await tarBuffer([], secret), of);
    await this.update(s.ID, (spec) => {
      const c = spec.TaskTemplate.ContainerSpec;
      c.Command = ['/bin/sh', '-c', SEED_SCRIPT, 'spoon-seed', ...(c.Command ?? [])];
      c.Env = [...(c.Env ?? []), `SPOON_SERVICE_ID=${s.ID}`];
      c.Configs = configs;
      c.Secrets = [{ File: { Name: SECRET_NAME, UID: '0', GID: '0', Mode: 0o400 }, SecretID: secretId, SecretName: secretName }];
      c.Mounts = [...(c.Mounts ?? []), { Type: 'volume', Source: `${spec.Name}-spoon`, Target: SPOON_DIR, VolumeOptions: { Labels: { [SW.of]: s.ID } } }];
      spec.Labels = { ...spec.Labels, [SW.seeded]: 'yes', [SW.ca]: caName, ...(hostKey ? { [SW.hostKey]: hostKey } : {}) };
      spec.Mode.Replicated.Replicas = 1;
    });
  }

  /** After the first placement: the service stays on that node (its volumes are there), and the node is remembered across destroy. */
  private async pinToNode(id: string): Promise<void> {
    const s = await this.service(id);
    const task = currentTask(await this.tasks([id]));
    if (!s || !task?.NodeID) return;
    const node = task.NodeID;
    const constraint = `node.id==${node}`;
    if (!(s.Spec.TaskTemplate.Placement?.Constraints ?? []).includes(constraint)) {
      // Only the placement changes, and the task's node meets it: Swarm keeps the task.
      await this.update(id, (spec) => {
        spec.TaskTemplate.Placement = { Constraints: [constraint] };
        spec.Labels = { ...spec.Labels, [SW.node]: node };
      });
    }
    const record: PlaceRecord = {
      node,
      image: s.Spec.TaskTemplate.ContainerSpec.Image,
      volumes: (s.Spec.TaskTemplate.ContainerSpec.Mounts ?? [])
        .filter((m) => m.Type === 'volume' && m.Source && m.Target !== SPOON_DIR)
        .map((m) => ({ name: m.Source ?? '', labels: m.VolumeOptions?.Labels ?? {} })),
    };
    const existing = await this.placeRecord(s.Spec.Name);
    if (existing?.node === node && existing.volumes.length === record.volumes.length) return;
    if (existing) await this.removeConfig(`${s.Spec.Name}-place`);
    const labels = { [SW.place]: s.Spec.Name, ...Object.assign({}, ...record.volumes.map((v) => v.labels)) } as Record<string, string>;
    await this.json('POST', '/configs/create', `recording where ${s.Spec.Name} is`, { json: { Name: `${s.Spec.Name}-place`, Labels: labels, Data: Buffer.from(JSON.stringify(record)).toString('base64') } });
  }

  private async placeRecord(serviceName: string): Promise<PlaceRecord | undefined> {
    const c = await this.json<ApiConfig>('GET', `/configs/${encodeURIComponent(`${serviceName}-place`)}`, `reading where ${serviceName} was`, { accept: [404] });
    if (!c?.Spec.Data) return undefined;
    try {
      return JSON.parse(Buffer.from(c.Spec.Data, 'base64').toString('utf8')) as PlaceRecord;
    } catch {
      return undefined;
    }
  }

  private async removeConfig(nameOrId: string): Promise<void> {
    const res = await this.http.request('DELETE', `/configs/${encodeURIComponent(nameOrId)}`, `removing config ${nameOrId}`, { accept: [404] });
    await drain(res.body);
  }

  /** Reads the service, changes its spec, and writes it back at the version read (retrying when someone else updated it between). */
  private async update(id: string, change: (spec: ApiServiceSpec) => void): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const s = await this.service(id);
      if (!s) throw new RuntimeError(`service ${id} is gone`);
      change(s.Spec);
      try {
        await this.json('POST', `/services/${s.ID}/update`, `updating service ${s.Spec.Name}`, { query: { version: s.Version.Index }, json: s.Spec });
        this.targets.delete(id);
        return;
      } catch (err) {
        if (attempt < 3 && err instanceof EngineApiError && /update out of sequence/i.test(err.engineMessage)) continue;
        throw err;
      }
    }
  }

  /** Until the service's task runs; a task the node refused (image missing, ...) is said with its node and reason. */
  private async waitRunning(id: string, replacing?: string): Promise<void> {
    const deadline = Date.now() + TASK_WAIT_MS;
    const failures = new Set<string>();
    // Tasks that had already ended (a killed one Swarm replaced) are history, not this start's failures.
    const ended = new Set((await this.tasks([id])).filter((t) => TERMINAL_STATES.has(t.Status.State)).map((t) => t.ID));
    for (;;) {
      const tasks = (await this.tasks([id])).filter((t) => !ended.has(t.ID));
      const current = currentTask(tasks);
      if (current?.Status.State === 'running' && current.DesiredState === 'running' && current.ID !== replacing) return;
      for (const t of tasks) {
        if (['rejected', 'failed'].includes(t.Status.State) && !failures.has(t.ID)) failures.add(t.ID);
      }
      const failed = tasks.filter((t) => failures.has(t.ID)).sort(byNewest)[0];
      // Pinned to a node that cannot take it: waiting would only time out.
      const svc = await this.service(id);
      const pinned = svc?.Spec.Labels[SW.node];
      const node = pinned ? (await this.nodes()).find((n) => n.ID === pinned) : undefined;
      if (pinned && (!node || node.Status.State !== 'ready' || node.Spec.Availability !== 'active')) {
        throw new RuntimeError(`${svc?.Spec.Name ?? id} cannot run: its node ${node ? describeNode(node) : pinned} is ${node ? (node.Status.State !== 'ready' ? node.Status.State : `${node.Spec.Availability === 'drain' ? 'drained' : node.Spec.Availability === 'pause' ? 'paused' : node.Spec.Availability}`) : 'gone from the swarm'}, and its volumes are there`, {
          hint: 'make the node active again (docker node update --availability active NODE) or bring it back; spoon never moves an env away from its volumes',
        });
      }
      if (failures.size >= 2 || (failed && /No such image|not found|pull access denied/i.test(failed.Status.Err ?? ''))) {
        throw await this.taskError(id, failed);
      }
      if (Date.now() > deadline) throw await this.taskError(id, current, `no task of it was running after ${TASK_WAIT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async taskError(id: string, task: ApiTask | undefined, why?: string): Promise<RuntimeError> {
    const s = await this.service(id);
    const node = task?.NodeID ? (await this.nodes()).find((n) => n.ID === task.NodeID) : undefined;
    const image = s?.Spec.TaskTemplate.ContainerSpec.Image ?? '?';
    const err = task?.Status.Err || task?.Status.Message || '';
    const where = node ? ` on node ${describeNode(node)}` : '';
    const missingImage = /No such image|not found|pull access denied|repository does not exist/i.test(err);
    return new RuntimeError(`cannot start ${s?.Spec.Name ?? id}${where}: ${why ?? `its task ${task?.Status.State ?? 'failed'}`}${err ? `: ${err}` : ''}`, {
      hint: missingImage
        ? `every node needs the image '${image}' and spoon cannot copy it there through the manager: push it to a registry the nodes pull from, or load it on each node (docker save | docker load)`
        : `look at \`docker service ps ${s?.Spec.Name ?? id} --no-trunc\` on the manager`,
    });
  }

  async stopContainer(id: string): Promise<void> {
    await this.update(id, (spec) => void (spec.Mode.Replicated.Replicas = 0));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const tasks = await this.tasks([id]);
      if (!tasks.some((t) => ['running', 'starting', 'preparing', 'assigned', 'accepted', 'pending', 'new'].includes(t.Status.State))) return;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async restartContainer(id: string): Promise<void> {
    // A new task: /etc/spoon and the volumes carry over, the rest of the filesystem is fresh.
    const before = currentTask(await this.tasks([id]));
    await this.update(id, (spec) => {
      spec.Mode.Replicated.Replicas = 1;
      spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
    });
    await this.waitRunning(id, before?.ID);
  }

  /** A Swarm service keeps its name for life; only the warm pool renames, and it is off on swarm. */
  renameContainer(nameOrId: string): Promise<boolean> {
    return Promise.reject(new UsageError(`cannot rename ${nameOrId}: a Swarm service keeps its name, so the warm pool is not available on the swarm backend`, { hint: 'set pool = 0 where backend = "swarm"' }));
  }

  async removeContainer(id: string): Promise<void> {
    const s = await this.service(id);
    if (!s) return;
    const res = await this.http.request('DELETE', `/services/${s.ID}`, `removing service ${s.Spec.Name}`, { accept: [404] });
    await drain(res.body);
    this.pending.delete(s.ID);
    this.targets.delete(s.ID);
    // Its configs and secret are in use until the task's container is gone.
    const filters = JSON.stringify({ label: [`${SW.of}=${s.ID}`] });
    for (let attempt = 0; attempt < 40; attempt++) {
      const configs = (await this.json<ApiConfig[]>('GET', '/configs', 'listing configs', { query: { filters } })) ?? [];
      const secrets = (await this.json<ApiConfig[]>('GET', '/secrets', 'listing secrets', { query: { filters } })) ?? [];
      if (configs.length + secrets.length === 0) return;
      for (const [kind, list] of [['configs', configs], ['secrets', secrets]] as const) {
        for (const c of list) {
          const r = await this.http.request('DELETE', `/${kind}/${c.ID}`, `removing ${c.Spec.Name}`, { accept: [400, 404, 409, 500] });
          await drain(r.body);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async containerLogs(id: string, tail: number): Promise<string> {
    await this.ready();
    const res = await this.http.request('GET', `/services/${id}/logs`, 'reading the service log', { query: { stdout: 1, stderr: 1, tail }, accept: [404, 500, 503] });
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    return res.status >= 400 ? '' : demuxLogs(Buffer.concat(chunks));
  }

  async processes(): Promise<string[] | undefined> {
    // `top` is a call to the node's own engine.
    return undefined;
  }

  async exec(id: string, spec: ExecSpec): Promise<ExecProcess> {
    return controlExec(await this.control(id), spec);
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.local.inspectImage(ref);
  }
  listImages(labels: Record<string, string | true>): Promise<ImageInfo[]> {
    return this.local.listImages(labels);
  }
  pullImage(ref: string, progress: ProgressSink): Promise<void> {
    return this.local.pullImage(ref, progress);
  }
  buildImage(request: BuildRequest, progress: ProgressSink): Promise<string> {
    return this.local.buildImage(request, progress);
  }
  removeImage(ref: string): Promise<void> {
    return this.local.removeImage(ref);
  }

  commitContainer(): Promise<string> {
    return Promise.reject(notThroughManager('committing an env to an image (snapshot)'));
  }
  pauseContainer(): Promise<void> {
    return Promise.reject(notThroughManager('pausing an env (snapshot)'));
  }
  unpauseContainer(): Promise<void> {
    return Promise.reject(notThroughManager('resuming a paused env'));
  }
  copyPath(): Promise<void> {
    return Promise.reject(notThroughManager("copying an env's files between containers (snapshot volumes)"));
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    // Made by the service's mount on the node its task runs on.
    this.volumeLabels.set(name, labels);
  }

  async listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]> {
    // A node's volumes are not listed by the manager: the placement records say which there are.
    const configs = (await this.json<ApiConfig[]>('GET', '/configs', 'listing configs', { query: { filters: JSON.stringify({ label: [SW.place, ...labelFilter(labels)] }) } })) ?? [];
    const out: VolumeInfo[] = [];
    for (const c of configs) {
      const record = await this.placeRecord(c.Spec.Labels?.[SW.place] ?? '');
      for (const v of record?.volumes ?? []) if (matchesLabels(v.labels, labels)) out.push(v);
    }
    return out;
  }

  async removeVolume(name: string): Promise<void> {
    const configs = (await this.json<ApiConfig[]>('GET', '/configs', 'listing configs', { query: { filters: JSON.stringify({ label: [SW.place] }) } })) ?? [];
    for (const c of configs) {
      const service = c.Spec.Labels?.[SW.place] ?? '';
      const record = await this.placeRecord(service);
      if (!record?.volumes.some((v) => v.name === name)) continue;
      await this.emptyVolume(service, record, name);
      const rest = record.volumes.filter((v) => v.name !== name);
      await this.removeConfig(`${service}-place`);
      if (rest.length > 0) {
        const labels = { [SW.place]: service, ...Object.assign({}, ...rest.map((v) => v.labels)) } as Record<string, string>;
        await this.json('POST', '/configs/create', `recording where ${service} is`, { json: { Name: `${service}-place`, Labels: labels, Data: Buffer.from(JSON.stringify({ ...record, volumes: rest })).toString('base64') } });
      }
    }
  }

  /**
   * The manager cannot remove a volume on a node: a one-shot task on that node empties
   * it instead (the empty volume itself stays there until the node's own `docker volume prune`).
   */
  private async emptyVolume(service: string, record: PlaceRecord, volume: string): Promise<void> {
    const name = `${service}-wipe-${Math.random().toString(36).slice(2, 8)}`;
    const created = await this.json<{ ID: string }>('POST', '/services/create', `emptying volume ${volume}`, {
      json: {
        Name: name,
        Labels: { [SW.of]: service },
        TaskTemplate: {
          ContainerSpec: { Image: record.image, User: 'root', Command: ['/bin/sh', '-c', 'find /v -mindepth 1 -delete'], Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }] },
          RestartPolicy: { Condition: 'none' },
          Placement: { Constraints: [`node.id==${record.node}`] },
        },
        Mode: { Replicated: { Replicas: 1 } },
      },
    });
    if (!created?.ID) return;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const t = currentTask(await this.tasks([created.ID]));
        if (t && ['complete', 'failed', 'rejected'].includes(t.Status.State)) {
          if (t.Status.State !== 'complete') throw new RuntimeError(`could not empty volume ${volume} on node ${record.node}: ${t.Status.Err ?? t.Status.State}`);
          return;
        }
        if (Date.now() > deadline) throw new RuntimeError(`emptying volume ${volume} on node ${record.node} did not finish within 60 s`, { hint: 'is the node down? `spoon doctor` says' });
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      const res = await this.http.request('DELETE', `/services/${created.ID}`, `removing service ${name}`, { accept: [404] });
      await drain(res.body);
    }
  }
}

function notThroughManager(what: string): UsageError {
  return new UsageError(`${what} is not available with the swarm backend: it is a call to the engine of the node the env runs on, which spoon does not reach (only the manager's API)`, {
    hint: 'use the docker backend for envs you snapshot',
  });
}

function labelFilter(labels: Record<string, string | true>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}

function matchesLabels(have: Record<string, string>, want: Record<string, string | true>): boolean {
  return Object.entries(want).every(([k, v]) => (v === true ? k in have : have[k] === v));
}

function resourcesOf(spec: ContainerSpec): ApiServiceSpec['TaskTemplate']['Resources'] {
  const h = spec.host ?? {};
  const r = { ...(h.cpus !== undefined ? { NanoCPUs: Math.round(h.cpus * 1e9) } : {}), ...(h.memory !== undefined ? { MemoryBytes: h.memory } : {}) };
  return Object.keys(r).length ? { Limits: r, Reservations: r } : {};
}

/** `node`: a node id (or its unique prefix), a hostname, or `label=value` of a node label. */
export function nodeMatches(n: ApiNode, selector: string): boolean {
  const eq = selector.indexOf('=');
  if (eq > 0) return n.Spec.Labels?.[selector.slice(0, eq)] === selector.slice(eq + 1);
  return n.ID === selector || (selector.length >= 4 && n.ID.startsWith(selector)) || n.Description?.Hostname === selector;
}

function constraintFor(selector: string): string[] {
  const eq = selector.indexOf('=');
  if (eq > 0) return [`node.labels.${selector.slice(0, eq)}==${selector.slice(eq + 1)}`];
  return [`node.hostname==${selector}`];
}

function describeNode(n: ApiNode): string {
  return `${n.ID.slice(0, 12)} (${n.Description?.Hostname ?? '?'}, ${nodeAddr(n)})`;
}

function nodeAddr(n: ApiNode): string {
  const addr = n.Status.Addr;
  if (addr && addr !== '0.0.0.0') return addr;
  return (n.ManagerStatus?.Addr ?? '').replace(/:\d+$/, '');
}

function byNewest(a: ApiTask, b: ApiTask): number {
  return b.CreatedAt.localeCompare(a.CreatedAt) || b.Version.Index - a.Version.Index;
}

/** The task that stands for the service now: the newest one Swarm wants running, else the newest. */
function currentTask(tasks: ApiTask[]): ApiTask | undefined {
  const sorted = [...tasks].sort(byNewest);
  return sorted.find((t) => t.DesiredState === 'running') ?? sorted[0];
}

const TERMINAL_STATES = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);
const PENDING_STATES = new Set(['new', 'pending', 'assigned', 'accepted', 'ready', 'preparing', 'starting']);

export function toInfo(s: ApiService, tasks: ApiTask[], nodes: ApiNode[]): ContainerInfo {
  const replicas = s.Spec.Mode.Replicated?.Replicas ?? 0;
  const task = currentTask(tasks);
  const nodeId = task?.NodeID || s.Spec.Labels[SW.node];
  const n = nodeId ? nodes.find((x) => x.ID === nodeId) : undefined;
  const node: NodeInfo | undefined = nodeId
    ? { id: nodeId, hostname: n?.Description?.Hostname ?? '', addr: n ? nodeAddr(n) : '', state: n?.Status.State ?? 'unknown', availability: n?.Spec.Availability ?? 'unknown' }
    : undefined;
  let state: ContainerState;
  const taskState = task?.Status.State ?? '';
  if (s.Spec.Labels[SW.seeded] !== 'yes') state = 'created';
  else if (replicas === 0) state = 'stopped';
  else if (taskState === 'running' && task?.DesiredState === 'running') state = 'running';
  // Exit 0 (idle_stop, a stop from inside): the restart policy leaves it stopped.
  else if (taskState === 'complete' || taskState === 'shutdown') state = 'stopped';
  else if (PENDING_STATES.has(taskState) || task?.DesiredState === 'running') state = 'restarting';
  else state = 'stopped';
  const running = state === 'running';
  const ports = running
    ? (task?.Status.PortStatus?.Ports ?? []).map((p) => ({ container: p.TargetPort, protocol: p.Protocol === 'udp' ? ('udp' as const) : ('tcp' as const), host: p.PublishedPort, hostIp: node?.addr ?? null }))
    : [];
  const err = task?.Status.Err;
  return {
    id: s.ID,
    name: s.Spec.Name,
    state,
    image: s.Spec.TaskTemplate.ContainerSpec.Image.replace(/@sha256:[0-9a-f]+$/, ''),
    imageId: '',
    labels: s.Spec.Labels,
    ports: ports.sort((a, b) => a.container - b.container),
    createdAt: s.CreatedAt,
    startedAt: running ? task?.Status.Timestamp : undefined,
    status: running ? `Up (task ${task?.ID.slice(0, 12)})` : `${taskState || 'no task'}${err ? `: ${err}` : ''}`,
    ...(task?.Status.ContainerStatus?.ExitCode !== undefined ? { exitCode: task.Status.ContainerStatus.ExitCode } : {}),
    ...(err ? { error: err } : {}),
    ...(node ? { node } : {}),
  };
}
