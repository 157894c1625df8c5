/**
 * Conformance with the devcontainers CLI (issue 12): the same devcontainer.json runs
 * through the CLI 0.89 (the devDependency, `devcontainer up`/`exec`, which drives the
 * docker CLI against the same engine) and through spoon (`spoon up NAME -N`, `spoon exec`
 * with the project as cwd), and the test compares what a project relies on: the user
 * commands run as, the workspace folder and its mount, the env in exec and in each
 * lifecycle hook, published ports, mounts, and the order and count of lifecycle commands
 * across create, stop+start and recreate.
 *
 * The projects are test/fixtures/conformance/*: configurations from the CLI's own test
 * suite (MIT, see its README) with local images instead of registry ones, and spoon's
 * own. Each is copied twice, to cli/FIXTURE and spoon/FIXTURE, so that both sides see
 * the same workspace basename and hooks write to their own hooks.log.
 *
 * Where spoon differs on purpose, the test asserts spoon's documented value and names
 * the README line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, defaultImageTag, ROOT, useSandbox, type RunResult } from './harness.js';

const box = useSandbox();
const CLI = join(ROOT, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'conformance');
/** Host variables both sides see (`${localEnv:…}`). */
const HOST_ENV = { CONF_LOCAL: `local-${box.runId}`, CONF_VOLUME: `conf-${box.runId}-cache` };

interface ContainerInspect {
  Id: string;
  Image: string;
  Path: string;
  Args: string[];
  Config: { Env: string[]; Labels: Record<string, string>; User: string };
  HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]> | null };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
}

/** One fixture, copied for each side. */
class Pair {
  readonly cli: string;
  readonly spoon: string;
  /** The spoon env's NAME. */
  readonly name: string;
  /** What the CLI finds its container by (its own side too: spoon's container carries the other two); the run's label makes the harness remove it. */
  readonly idLabels: string[];
  cliContainer = '';

  constructor(readonly fixture: string) {
    this.cli = join(box.dir, 'cli', fixture);
    this.spoon = join(box.dir, 'spoon', fixture);
    this.name = box.name(fixture.replace(/[^a-z0-9]/g, '').slice(0, 12));
    this.idLabels = ['--id-label', box.label, '--id-label', `test.spoon.conf=${fixture}`, '--id-label', 'test.spoon.side=cli'];
  }

  async prepare(): Promise<this> {
    let image: string;
    try {
      image = await defaultImageTag();
    } catch {
      // `spoon build` with nothing configured builds spoon's default image.
      const built = await box.spoon(['build']);
      assert.equal(built.code, 0, built.stderr);
      image = built.stdout.trim();
    }
    for (const dir of [this.cli, this.spoon]) {
      cpSync(join(FIXTURES, this.fixture), dir, { recursive: true });
      for (const file of walk(dir)) {
        const text = readFileSync(file, 'utf8');
        if (text.includes('@IMAGE@')) writeFileSync(file, text.replaceAll('@IMAGE@', image));
      }
      // Hooks run as a non-root user too: they must be able to append.
      writeFileSync(join(dir, 'hooks.log'), '');
      chmodSync(join(dir, 'hooks.log'), 0o666);
    }
    return this;
  }

  // ---- the devcontainers CLI ----

  async cliUp(extra: string[] = []): Promise<string> {
    const r = await devcontainer(['up', '--workspace-folder', this.cli, ...this.idLabels, ...extra]);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let out: { outcome?: string; containerId?: string } = {};
    try {
      out = JSON.parse(last) as typeof out;
    } catch {
      // reported below
    }
    if (r.code !== 0 || out.outcome !== 'success' || !out.containerId) throw new Error(`devcontainer up ${this.fixture} failed (${r.code}): ${r.stdout}\n${r.stderr.slice(-3000)}`);
    this.cliContainer = out.containerId;
    return out.containerId;
  }

  async cliExec(script: string): Promise<string> {
    const r = await devcontainer(['exec', '--workspace-folder', this.cli, ...this.idLabels, 'sh', '-c', script]);
    assert.equal(r.code, 0, `devcontainer exec: ${r.stderr}`);
    return normalize(r.stdout, this.cli);
  }

  async cliStop(): Promise<void> {
    assert.ok([204, 304].includes((await api('POST', `/containers/${this.cliContainer}/stop?t=1`)).status));
  }

  // ---- spoon ----

  spoonRun(args: string[]): Promise<RunResult> {
    // The labels come from the environment so that up and exec see the same settings.
    return box.spoon(args, { cwd: this.spoon, env: { ...HOST_ENV, SPOON_LABELS: `${box.label},test.spoon.conf=${this.fixture}` } });
  }

  async spoonUp(): Promise<RunResult> {
    const r = await this.spoonRun(['up', this.name, '-N']);
    assert.equal(r.code, 0, `spoon up ${this.name}: ${r.stderr}`);
    return r;
  }

  async spoonExec(script: string): Promise<string> {
    const r = await this.spoonRun(['exec', this.name, '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, `spoon exec: ${r.stderr}`);
    return normalize(r.stdout, this.spoon);
  }

  // ---- both ----

  /** Both sides' hooks.log, with the project folders made alike. */
  hooks(): { cli: string; spoon: string } {
    return { cli: normalize(readFileSync(join(this.cli, 'hooks.log'), 'utf8'), this.cli), spoon: normalize(readFileSync(join(this.spoon, 'hooks.log'), 'utf8'), this.spoon) };
  }

  async inspect(): Promise<{ cli: ContainerInspect; spoon: ContainerInspect }> {
    const cli = (await api<ContainerInspect>('GET', `/containers/${this.cliContainer}/json`)).body;
    const spoon = (await api<ContainerInspect>('GET', `/containers/spoon-${this.name}/json`)).body;
    assert.ok(cli && spoon);
    return { cli, spoon };
  }

  /** Removes both sides' containers with their anonymous volumes, and the image the CLI built. */
  async remove(): Promise<void> {
    const filters = encodeURIComponent(JSON.stringify({ label: [box.label, `test.spoon.conf=${this.fixture}`] }));
    const list = (await api<{ Id: string; Image: string; Labels: Record<string, string> }[]>('GET', `/containers/json?all=1&filters=${filters}`)).body ?? [];
    await Promise.all(list.map((c) => api('DELETE', `/containers/${c.Id}?force=1&v=1`)));
    // The CLI's builds are `vsc-…` images; spoon's own builds are left to its cache, as elsewhere.
    for (const c of list) if (c.Image.startsWith('vsc-')) await api('DELETE', `/images/${encodeURIComponent(c.Image)}?force=1`);
  }
}

function devcontainer(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...HOST_ENV };
    for (const k of Object.keys(env)) if (k.startsWith('SPOON_')) delete env[k];
    delete env.DOCKER_HOST;
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The project's own folder differs between the sides; the rest must not. */
function normalize(text: string, project: string): string {
  return text.replaceAll(project, '<project>');
}

/** Prints each variable as NAME=[value] (or NAME unset), one per line, exactly. */
function envScript(names: string[]): string {
  return names.map((n) => `if [ -n "\${${n}+set}" ]; then printf '%s=[%s]\\n' ${n} "$${n}"; else echo '${n} unset'; fi`).join('; ');
}

function only(log: string, hooks: string[]): string {
  return log
    .split('\n')
    .filter((l) => hooks.includes(l.split(' ')[0] ?? ''))
    .join('\n');
}

/** Sets up a pair for a describe block and removes its containers afterwards, pass or fail. */
function usePair(fixture: string): Pair {
  const pair = new Pair(fixture);
  after(() => pair.remove());
  return pair;
}

// ---------------------------------------------------------------------------

describe('lifecycle hooks: order, count, user, folder and env, across create, stop+start, recreate', () => {
  const p = usePair('lifecycle');
  const phases = ['create', 'stop+start', 'up again', 'exec', 'recreate'] as const;
  const logs: Record<string, { cli: string; spoon: string }> = {};
  const look = 'id -un; pwd; echo "HOME=$HOME SOMEVAR=$SOMEVAR RE_VAR=$RE_VAR"';
  let exec: { cli: string; spoon: string };

  before(async () => {
    await p.prepare();
    // Independent containers and files: both sides run at once.
    const cli = async (): Promise<string> => {
      await p.cliUp();
      const shown = await p.cliExec(look);
      logs.create = { cli: p.hooks().cli, spoon: '' };
      await p.cliStop();
      await p.cliUp();
      logs['stop+start'] = { cli: p.hooks().cli, spoon: '' };
      await p.cliUp();
      logs['up again'] = { cli: p.hooks().cli, spoon: '' };
      await p.cliExec('true');
      logs.exec = { cli: p.hooks().cli, spoon: '' };
      await p.cliUp(['--remove-existing-container']);
      logs.recreate = { cli: p.hooks().cli, spoon: '' };
      return shown;
    };
    const spoon = async (): Promise<string[]> => {
      const seen: string[] = [];
      await p.spoonUp();
      const shown = await p.spoonExec(look);
      seen.push(p.hooks().spoon);
      assert.equal((await p.spoonRun(['stop', p.name])).code, 0);
      await p.spoonUp();
      seen.push(p.hooks().spoon);
      await p.spoonUp();
      seen.push(p.hooks().spoon);
      await p.spoonExec('true');
      seen.push(p.hooks().spoon);
      // spoon's recreate: destroy (volumes kept) and up again.
      assert.equal((await p.spoonRun(['destroy', p.name, '-f'])).code, 0);
      await p.spoonUp();
      seen.push(p.hooks().spoon);
      return [shown, ...seen];
    };
    const [cliShown, [spoonShown = '', ...spoonLogs]] = await Promise.all([cli(), spoon()]);
    phases.forEach((phase, i) => (logs[phase]!.spoon = spoonLogs[i] ?? ''));
    exec = { cli: cliShown, spoon: spoonShown };
  });

  test('exec: the same user, HOME, workspace folder, containerEnv and remoteEnv', () => {
    assert.equal(exec.spoon, exec.cli);
    assert.equal(exec.cli, `dev\n/workspaces/lifecycle\nHOME=/home/dev SOMEVAR=ce-value RE_VAR=re-${HOST_ENV.CONF_LOCAL}\n`);
  });

  for (const phase of phases) {
    test(`after ${phase}: onCreate, postCreate, postStart ran as often, in order, as the same user, in the same folder, with the same env`, () => {
      const hooks = ['onCreate', 'postCreate', 'postStart'];
      assert.equal(only(logs[phase]!.spoon, hooks), only(logs[phase]!.cli, hooks));
    });
  }

  test('the hooks the CLI runs, with their values', () => {
    const line = (hook: string): string => `${hook} dev /workspaces/lifecycle ce-value re-${HOST_ENV.CONF_LOCAL}`;
    const created = ['initialize root <project>', ...['onCreate', 'updateContent', 'postCreate', 'postStart', 'postAttach'].map(line)];
    const started = ['initialize root <project>', line('postStart'), line('postAttach')];
    const upAgain = ['initialize root <project>', line('postAttach')];
    // `devcontainer exec` runs no hook; `up --remove-existing-container` is a create.
    assert.equal(logs.recreate!.cli, [...created, ...started, ...upAgain, ...created, ''].join('\n'));
  });

  test(
    'after each phase: initializeCommand (on the host, before create) and updateContentCommand too',
    () => {
      // postAttachCommand differs on purpose: the CLI's `up` counts as an attach; spoon runs it
      // when a terminal attaches (`spoon NAME`), not on `up -N` or `exec` (checked below).
      const hooks = ['initialize', 'onCreate', 'updateContent', 'postCreate', 'postStart'];
      for (const phase of phases) assert.equal(only(logs[phase]!.spoon, hooks), only(logs[phase]!.cli, hooks), phase);
    },
  );

  test('difference: postAttachCommand runs on the CLI\'s `up`, and not on spoon\'s `up -N` or `exec`', () => {
    // README, devcontainer.json, "Differences from the devcontainers CLI": postAttachCommand.
    assert.equal(only(logs.recreate!.cli, ['postAttach']).split('\n').length, 4, 'one per up');
    assert.equal(only(logs.recreate!.spoon, ['postAttach']), '');
  });
});

describe('the CLI\'s "image" config: runArgs -e, remoteEnv with escapes, ${localEnv} and ${containerEnv}, postCreateCommand', () => {
  const p = usePair('cli-image');
  let out: { cli: string; spoon: string };
  const names = ['TEST_CE', 'TEST', 'TEST_ESCAPING', 'LOCAL_PATH', 'CONTAINER_PATH', 'TEST_RE'];

  before(async () => {
    await p.prepare();
    const script = `id -un; pwd; cat /postCreateCommand.txt; ${envScript(names)}`;
    const [cli, spoon] = await Promise.all([p.cliUp().then(() => p.cliExec(script)), p.spoonUp().then(() => p.spoonExec(script))]);
    out = { cli, spoon };
  });

  const lines = (text: string, from: number, to?: number): string => text.split('\n').slice(from, to).join('\n');

  test('user, workspace folder and a runArgs -e variable are the same', () => {
    // debian:bookworm names no user and has no sshd: both run as root (README: "Images without sshd").
    assert.equal(lines(out.spoon, 0, 2), 'root\n/workspaces/cli-image');
    assert.equal(lines(out.spoon, 0, 2), lines(out.cli, 0, 2));
    assert.equal(lines(out.cli, 3, 4), 'TEST_CE=[TEST_VALUE3]');
    assert.equal(lines(out.spoon, 3, 4), lines(out.cli, 3, 4));
  });

  /** NAME's value as envScript printed it (`NAME=[value]`, the value may span lines), or undefined when unset. */
  const value = (text: string, name: string): string | undefined => new RegExp(`^${name}=\\[([\\s\\S]*?)\\]$`, 'm').exec(text)?.[1];

  test('remoteEnv in exec and in postCreateCommand, values exact', () => {
    assert.match(out.cli, /^Val: ENV$/m);
    assert.match(out.spoon, /^Val: ENV$/m);
    assert.equal(value(out.cli, 'TEST'), 'ENV');
    assert.equal(value(out.cli, 'TEST_ESCAPING'), `{\n  "fo$o": "ba'r"\n}`);
    assert.equal(value(out.cli, 'LOCAL_PATH'), process.env.PATH ?? '');
    for (const n of ['TEST', 'TEST_ESCAPING', 'LOCAL_PATH']) assert.equal(value(out.spoon, n), value(out.cli, n), n);
  });

  test('${containerEnv:X} in remoteEnv; difference: PATH is the session\'s where the CLI gives an empty one', () => {
    assert.equal(value(out.cli, 'TEST_RE'), 'TEST_VALUE3');
    assert.equal(value(out.spoon, 'TEST_RE'), 'TEST_VALUE3');
    // README, devcontainer.json, "Differences from the devcontainers CLI": remoteEnv. This
    // debian:bookworm, imported by debootstrap, sets no PATH in its config: the CLI gives ""
    // and spoon the session's PATH.
    assert.equal(value(out.cli, 'CONTAINER_PATH'), '');
    assert.match(value(out.spoon, 'CONTAINER_PATH') ?? '', /(^|:)\/usr\/bin(:|$)/);
  });
});

describe('the CLI\'s "dockerfile-with-parallel-commands" config: build args, parallel hooks', () => {
  const p = usePair('cli-parallel-commands');
  let out: { cli: string; spoon: string };
  const script = 'id -un; pwd; cat /variant; ls /tmp | grep testmarker | sort';

  before(async () => {
    await p.prepare();
    const [cli, spoon] = await Promise.all([p.cliUp().then(() => p.cliExec(script)), p.spoonUp().then(() => p.spoonExec(script))]);
    out = { cli, spoon };
  });

  test('built with the build arg; both postCreate and both postStart commands ran', () => {
    const common = (text: string): string => text.split('\n').filter((l) => !l.startsWith('postAttach')).join('\n');
    assert.equal(common(out.cli), 'root\n/workspaces/cli-parallel-commands\n16-bullseye\npostCreateCommand1.testmarker\npostCreateCommand2.testmarker\npostStartCommand1.testmarker\npostStartCommand2.testmarker\n');
    assert.equal(common(out.spoon), common(out.cli));
  });

  test('difference: postAttachCommand ran on the CLI\'s up, not on spoon\'s up -N', () => {
    // README, devcontainer.json, "Differences from the devcontainers CLI": postAttachCommand.
    assert.match(out.cli, /postAttachCommand1\.testmarker\npostAttachCommand2\.testmarker/);
    assert.doesNotMatch(out.spoon, /postAttach/);
  });

  test('userEnvProbe: the login shell\'s profile reaches exec', async () => {
    const probe = envScript(['PROBED_VAR']);
    const [cli, spoon] = await Promise.all([p.cliExec(probe), p.spoonExec(probe)]);
    assert.equal(cli, 'PROBED_VAR=[from-profile]\n');
    assert.equal(spoon, cli);
  });
});

describe('the CLI\'s "dockerfile-with-target" config: build target and args', () => {
  const p = usePair('cli-target');
  let out: { cli: string; spoon: string };
  let spoonWarnings = '';
  const script = 'cat /var/test-marker /variant; ls /tmp | grep testmarker | grep -v postAttach | sort';

  before(async () => {
    await p.prepare();
    const [cli, spoon] = await Promise.all([
      p.cliUp().then(() => p.cliExec(script)),
      p.spoonUp().then(async (r) => {
        spoonWarnings = r.stderr;
        return p.spoonExec(script);
      }),
    ]);
    out = { cli, spoon };
  });

  test('the target stage was built, with its arg, and postCreate and postStart ran', () => {
    assert.equal(out.cli, '||test-content||\n18-bookworm\npostCreateCommand.testmarker\npostStartCommand.testmarker\n');
    assert.equal(out.spoon, out.cli);
  });

  test('difference: build.options are passed to docker build by the CLI, ignored with a warning by spoon', async () => {
    // README, devcontainer.json, "Differences from the devcontainers CLI": build.options.
    const { cli, spoon } = await p.inspect();
    const label = async (image: string): Promise<string | undefined> =>
      (await api<{ Config: { Labels: Record<string, string> | null } }>('GET', `/images/${image}/json`)).body?.Config.Labels?.test_build_options;
    assert.equal(await label(cli.Image), 'success');
    assert.equal(await label(spoon.Image), undefined);
    assert.match(spoonWarnings, /build\.options: ignored by spoon/);
  });
});

describe('the CLI\'s containerEnv configs: spaces, quotes, $, backslashes, newlines', () => {
  const p = usePair('cli-containerenv');
  const names = ['SOME_PATH', 'Test_Message', 'VAR_WITH_SPACES', 'VAR_WITH_LOTS_OF_SPACES', 'VAR_WITH_QUOTES_WE_WANT_TO_KEEP', 'VAR_WITH_DOLLAR_SIGN', 'VAR_WITH_BACK_SLASH', 'ENV_WITH_COMMAND'];

  test('exec sees every value exactly as the CLI does, and the container carries them', async () => {
    await p.prepare();
    const script = envScript(names);
    const [cli, spoon] = await Promise.all([p.cliUp().then(() => p.cliExec(script)), p.spoonUp().then(() => p.spoonExec(script))]);
    assert.match(cli, /^VAR_WITH_LOTS_OF_SPACES=\[ {4}value with lots of spaces\. {3}\]$/m);
    assert.match(cli, /^Test_Message=\[H"\n\ne"'''llo M:;a\/t\?h&\^iKa%#@!``ni,sk_a-\]$/m);
    assert.equal(spoon, cli);
    const both = await p.inspect();
    const mine = (env: string[]): string[] => env.filter((e) => names.some((n) => e.startsWith(`${n}=`))).sort();
    assert.deepEqual(mine(both.spoon.Config.Env), mine(both.cli.Config.Env));
  });
});

describe('an unknown ${…} variable (the CLI\'s image-containerEnv-issue ROSCONSOLE_FORMAT)', () => {
  const p = usePair('cli-unknown-variable');

  test('difference: the CLI keeps it as text; spoon refuses the file, naming file:line and the variable', async () => {
    await p.prepare();
    await p.cliUp();
    assert.equal(await p.cliExec('printf %s "$ROSCONSOLE_FORMAT"'), '[$${severity}] [$${walltime:%Y-%m-%d %H:%M:%S}] [$${node}]: $${message}');
    // README, devcontainer.json, "Differences from the devcontainers CLI": unknown variables.
    const r = await p.spoonRun(['up', p.name, '-N']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\.devcontainer\.json:6:\d+: containerEnv\.ROSCONSOLE_FORMAT: unsupported variable \$\{severity\}/);
  });
});

describe('the CLI\'s "image-with-mounts" config: an anonymous volume', () => {
  const p = usePair('cli-mounts');

  test('the same mounts, plus spoon\'s home volume', async () => {
    await p.prepare();
    await Promise.all([p.cliUp(), p.spoonUp()]);
    const { cli, spoon } = await p.inspect();
    const shape = (c: ContainerInspect, project: string): string[] =>
      c.Mounts.map((m) => `${m.Type} ${m.Type === 'bind' ? normalize(m.Source, project) : m.Name === `spoon-${p.name}-home` ? 'spoon-home' : 'anonymous'} ${m.Destination} ${m.RW ? 'rw' : 'ro'}`).sort();
    assert.deepEqual(shape(cli, p.cli), ['bind <project> /workspaces/cli-mounts rw', 'volume anonymous /home/test_devcontainer_config rw']);
    // Difference: README, Configuration: `persist` defaults to ["~"], the home volume
    // spoon-NAME-home (the image names no user, so ~ is /root: README, "Images without sshd").
    assert.deepEqual(shape(spoon, p.spoon), [...shape(cli, p.cli), 'volume spoon-home /root rw'].sort());
  });
});

describe('ports, mounts and a workspace mounted elsewhere, on an image with sshd and no remoteUser', () => {
  const p = usePair('ports-mounts');
  const script = 'id -un; pwd; cat file.txt /shared/file.txt; touch /shared/x 2>/dev/null && echo shared-writable || echo shared-read-only; ls /src';
  let cli: ContainerInspect;
  let spoon: ContainerInspect;
  let out: { cli: string; spoon: string };

  before(async () => {
    await p.prepare();
    // appPort publishes fixed host ports: one side at a time.
    await p.cliUp();
    const cliOut = await p.cliExec(script);
    cli = (await api<ContainerInspect>('GET', `/containers/${p.cliContainer}/json`)).body as ContainerInspect;
    await api('DELETE', `/containers/${p.cliContainer}?force=1&v=1`);
    await p.spoonUp();
    spoon = (await api<ContainerInspect>('GET', `/containers/spoon-${p.name}/json`)).body as ContainerInspect;
    out = { cli: cliOut, spoon: await p.spoonExec(script) };
  });
  after(() => api('DELETE', `/volumes/${HOST_ENV.CONF_VOLUME}`));

  test('the workspace folder, its mount, and the bind and volume mounts are the same', () => {
    const rest = (text: string): string => text.split('\n').slice(1).join('\n');
    assert.equal(rest(out.cli), '/src/ports-mounts/sub\nsub\nshared\nshared-read-only\nports-mounts\n');
    assert.equal(rest(out.spoon), rest(out.cli));
    const shape = (c: ContainerInspect, project: string): string[] =>
      c.Mounts.filter((m) => m.Name !== `spoon-${p.name}-home`)
        .map((m) => `${m.Type} ${m.Type === 'bind' ? normalize(m.Source, project) : m.Name === HOST_ENV.CONF_VOLUME ? 'named' : 'anonymous'} ${m.Destination} ${m.RW ? 'rw' : 'ro'}`)
        .sort();
    assert.deepEqual(shape(cli, p.cli), ['bind <project> /src/ports-mounts rw', 'bind <project>/shared /shared ro', 'volume anonymous /scratch rw', 'volume named /cache rw']);
    assert.deepEqual(shape(spoon, p.spoon), shape(cli, p.cli));
  });

  test('difference: spoon logs in as its configured user, not the image\'s root', () => {
    // README, Configuration: `user` | login user in the container (not root) | `dev`.
    assert.equal(out.cli.split('\n')[0], 'root');
    assert.equal(out.spoon.split('\n')[0], 'dev');
  });

  test('difference: spoon runs the image\'s sshd as the main process; the CLI overrides the command', () => {
    // README, How it connects, Create: "The container's main process is that sshd".
    assert.match(`${spoon.Path} ${spoon.Args.join(' ')}`, /sshd/);
    assert.doesNotMatch(`${cli.Path} ${cli.Args.join(' ')}`, /sshd/);
  });

  test('published ports: appPort numbers on 127.0.0.1 as the CLI does; forwardPorts are not published by either', () => {
    const bindings = (c: ContainerInspect): string[] =>
      Object.entries(c.HostConfig.PortBindings ?? {})
        .filter(([port]) => port !== '22/tcp')
        .map(([port, b]) => `${port} ${b.map((x) => `${x.HostIp || '0.0.0.0'}:${x.HostPort}`).join(',')}`)
        .sort();
    assert.deepEqual(bindings(cli), ['38123/tcp 127.0.0.1:38123', '81/tcp 0.0.0.0:38124']);
    // Difference: a "HOST:CONTAINER" appPort binds to spoon's `listen` (127.0.0.1), not all
    // addresses (README, Security defaults: published ports bind to `listen`).
    assert.deepEqual(bindings(spoon), ['38123/tcp 127.0.0.1:38123', '81/tcp 127.0.0.1:38124']);
  });
});

describe('a local feature (./my-feature with options and containerEnv)', () => {
  const p = usePair('local-feature');

  test('installed with its option, its containerEnv in exec', async () => {
    await p.prepare();
    const script = `cat /usr/local/share/greeting; ${envScript(['FEATURE_VAR'])}`;
    const cli = await p.cliUp().then(() => p.cliExec(script));
    assert.equal(cli, 'howdy\nFEATURE_VAR=[from-feature]\n');
    await p.spoonUp();
    assert.equal(await p.spoonExec(script), cli);
  });
});

describe('runArgs, capAdd, init and containerUser, on an image without sshd', () => {
  const p = usePair('run-args');

  test('the same container settings, and sessions and hooks run as containerUser', async () => {
    await p.prepare();
    const script = `id -un; pwd; ${envScript(['FROM_RUN_ARGS'])}`;
    const [cli, spoon] = await Promise.all([p.cliUp().then(() => p.cliExec(script)), p.spoonUp().then(() => p.spoonExec(script))]);
    assert.equal(cli, 'nobody\n/workspaces/run-args\nFROM_RUN_ARGS=[yes]\n');
    assert.equal(spoon, cli);
    // The CLI keeps its lifecycle markers in the user's home; nobody's (/nonexistent) cannot
    // be made, and it then skips the lifecycle commands without a word. spoon runs them.
    const hooks = p.hooks();
    assert.equal(hooks.cli, '');
    assert.equal(hooks.spoon, 'postCreate nobody /workspaces/run-args yes\n');
    interface Host {
      Config: { User: string };
      HostConfig: { NanoCpus: number; Memory: number; Dns: string[]; CapAdd: string[] | null; SecurityOpt: string[] | null; Init: boolean | null };
    }
    // The engine keeps capabilities as given: spoon sends CAP_NET_ADMIN, docker NET_ADMIN; the same capability.
    const settings = async (id: string): Promise<unknown> => {
      const c = (await api<Host>('GET', `/containers/${id}/json`)).body;
      assert.ok(c);
      const h = c.HostConfig;
      return { user: c.Config.User, cpus: h.NanoCpus, memory: h.Memory, dns: h.Dns, capAdd: (h.CapAdd ?? []).map((c) => c.replace(/^CAP_/, '')).sort(), securityOpt: h.SecurityOpt, init: h.Init };
    };
    const expected = { user: 'nobody', cpus: 1e9, memory: 256 * 1024 ** 2, dns: ['192.0.2.53'], capAdd: ['NET_ADMIN', 'SYS_PTRACE'], securityOpt: ['no-new-privileges'], init: true };
    assert.deepEqual(await settings(p.cliContainer), expected);
    assert.deepEqual(await settings(`spoon-${p.name}`), expected);
  });
});

describe('a lifecycle command that fails', () => {
  const p = usePair('failing-hook');

  test('stops the commands after it, fails the up, and leaves the container to inspect', async () => {
    await p.prepare();
    const [cli, spoon] = await Promise.all([
      devcontainer(['up', '--workspace-folder', p.cli, ...p.idLabels]),
      p.spoonRun(['up', p.name, '-N']),
    ]);
    const hooks = p.hooks();
    assert.equal(hooks.cli, 'onCreate\npostCreate\n');
    assert.equal(hooks.spoon, hooks.cli);
    assert.equal(cli.code, 1);
    // spoon exits with the command's own status (README, Configuration: run_on_create).
    assert.equal(spoon.code, 3, spoon.stderr);
    assert.equal((await api<{ State: { Running: boolean } }>('GET', `/containers/spoon-${p.name}/json`)).body?.State.Running, true);
  });
});
