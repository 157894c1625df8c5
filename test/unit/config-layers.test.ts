/**
 * Layered configuration (SPEC "Configuration"): defaults < user file < project
 * file < --config FILE < SPOON_<KEY> variables < flags, merged key by key with
 * provenance; the config hash stored on created envs; and whether any
 * creation-time setting was configured at all.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, envVarLayer, envVarName, hasCreationSettings, resolveOptions, type Layer, type SourceKind } from '../../src/config/layers.js';
import { KEYS, KEY_NAMES, defaultOptions, type EnvOptions, type KeyName } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';

const TMP = mkdtempSync(join(tmpdir(), 'spoon-config-layers-'));
const TMPHOME = join(TMP, 'home');
const USERDIR = join(TMP, 'xdg', 'spoon');
const PROJECT = join(TMP, 'project');
const CFGDIR = join(TMP, 'cfg');
const CWD = join(PROJECT, 'sub');
for (const d of [TMPHOME, USERDIR, PROJECT, CFGDIR, CWD]) mkdirSync(d, { recursive: true });
for (const d of [join(USERDIR, 'data'), join(PROJECT, 'data'), join(CFGDIR, 'data'), join(CWD, 'data')]) mkdirSync(d);
writeFileSync(join(CFGDIR, 'k.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICfg cfg@host\n');

after(() => rmSync(TMP, { recursive: true, force: true }));

/** A file layer whose keys sit on lines 1, 2, 3… in the order given. */
function fileLayer(kind: SourceKind, path: string, baseDir: string, values: Record<string, unknown>): Layer {
  const keys = Object.keys(values);
  return { kind, origin: path, baseDir, where: (k) => `${path}:${keys.indexOf(k) + 1}: ${k}`, values };
}

const USERFILE = join(USERDIR, 'config.toml');
const PROJECTFILE = join(PROJECT, 'spoon.toml');
const CFGFILE = join(CFGDIR, 'extra.toml');
const userFile = (values: Record<string, unknown>) => fileLayer('user file', USERFILE, USERDIR, values);
const projectFile = (values: Record<string, unknown>) => fileLayer('project file', PROJECTFILE, PROJECT, values);
const configFile = (values: Record<string, unknown>) => fileLayer('config file', CFGFILE, CFGDIR, values);

const flagName = (k: string): string => `--${k.replace(/_/g, '-')}`;
function flags(values: Record<string, unknown>): Layer {
  return { kind: 'flag', origin: 'command line', baseDir: CWD, where: flagName, values };
}

function assertUsageError(fn: () => unknown, whereText: string, parts: string[]): UsageError {
  let caught: UsageError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.startsWith(`${whereText}: `), `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(`${whereText}: `)}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(p)}`);
    caught = err;
    return true;
  });
  assert.ok(caught);
  return caught;
}

const tcp = (container: number, host?: number) => ({ container, host, protocol: 'tcp' as const });

describe('resolveOptions', () => {
  test('with no layers gives the defaults, every key from the built-in default', () => {
    const { options, sources } = resolveOptions([], TMPHOME);
    assert.deepEqual(options, defaultOptions());
    assert.deepEqual(Object.keys(sources).sort(), [...KEY_NAMES].sort());
    for (const key of KEY_NAMES) assert.deepEqual(sources[key], { kind: 'default', origin: 'built-in', where: 'built-in default' }, key);
  });

  test('an empty layer changes nothing', () => {
    const r = resolveOptions([projectFile({}), flags({})], TMPHOME);
    assert.deepEqual(r, resolveOptions([], TMPHOME));
  });

  test('later layers win, key by key, and each key records its winning layer', () => {
    const { options, sources } = resolveOptions(
      [
        userFile({ user: 'alice', session: 'u', cpus: 1, image: 'user:img' }),
        projectFile({ session: 'p', memory: '1g', image: 'project:img' }),
        configFile({ image: 'cfg:img', privileged: true }),
        envVarLayer({ SPOON_SESSION: 'e', SPOON_CPU_SHARES: '512' }, CWD),
        flags({ ports: '3000', cpu_shares: 256 }),
      ],
      TMPHOME,
    );
    const want: [KeyName, unknown, SourceKind, string, string][] = [
      ['user', 'alice', 'user file', USERFILE, `${USERFILE}:1: user`],
      ['cpus', 1, 'user file', USERFILE, `${USERFILE}:3: cpus`],
      ['memory', 1024 ** 3, 'project file', PROJECTFILE, `${PROJECTFILE}:2: memory`],
      ['image', 'cfg:img', 'config file', CFGFILE, `${CFGFILE}:1: image`],
      ['privileged', true, 'config file', CFGFILE, `${CFGFILE}:2: privileged`],
      ['session', 'e', 'env var', 'SPOON_* variables', 'SPOON_SESSION'],
      ['cpu_shares', 256, 'flag', 'command line', '--cpu-shares'],
      ['ports', [tcp(3000)], 'flag', 'command line', '--ports'],
      ['listen', '127.0.0.1', 'default', 'built-in', 'built-in default'],
      ['prefix', 'spoon-', 'default', 'built-in', 'built-in default'],
    ];
    for (const [key, value, kind, origin, where] of want) {
      assert.deepEqual(options[key], value, key);
      assert.deepEqual(sources[key], { kind, origin, where }, key);
    }
  });

  test('the order of the layers decides, not their kind', () => {
    const { options, sources } = resolveOptions([flags({ user: 'bob' }), userFile({ user: 'alice' })], TMPHOME);
    assert.equal(options.user, 'alice');
    assert.equal(sources.user.kind, 'user file');
  });

  test('a later list or table replaces an earlier one whole (no merging)', () => {
    const { options } = resolveOptions(
      [userFile({ ports: [3000, 4000], env: { A: '1', B: '2' }, persist: ['~', '/data'] }), projectFile({ ports: ['5000'], env: { C: '3' }, persist: [] })],
      TMPHOME,
    );
    assert.deepEqual(options.ports, [tcp(5000)]);
    assert.deepEqual(options.env, { C: '3' });
    assert.deepEqual(options.persist, []);
  });

  test('a key set to undefined in a later layer does not override', () => {
    const { options, sources } = resolveOptions([projectFile({ user: 'alice' }), flags({ user: undefined, image: undefined })], TMPHOME);
    assert.equal(options.user, 'alice');
    assert.equal(sources.user.kind, 'project file');
    assert.equal(sources.image.kind, 'default');
  });

  test("an explicit '' image from a flag brings back the default image, and says it came from the flag", () => {
    const { options, sources } = resolveOptions([projectFile({ image: 'alpine:3' }), flags({ image: '' })], TMPHOME);
    assert.equal(options.image, undefined);
    assert.deepEqual(sources.image, { kind: 'flag', origin: 'command line', where: '--image' });
  });

  test('an unknown key is a UsageError naming where(key) and listing the known keys', () => {
    const err = assertUsageError(() => resolveOptions([projectFile({ user: 'alice', publish: [3000] })], TMPHOME), `${PROJECTFILE}:2: publish`, ["unknown key 'publish'"]);
    const hint = err.hint ?? '';
    assert.ok(hint.startsWith('known keys: '), hint);
    for (const key of KEY_NAMES) assert.ok(hint.includes(key), `hint should list ${key}: ${hint}`);
  });

  test('an unknown key in a flag layer names the flag', () => {
    assertUsageError(() => resolveOptions([flags({ cpu: '2' })], TMPHOME), '--cpu', ["unknown key 'cpu'"]);
  });

  for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    test(`an inherited Object property name (${key}) is an unknown key, not a crash`, () => {
      const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      values[key] = 'x';
      assertUsageError(() => resolveOptions([projectFile(values)], TMPHOME), `${PROJECTFILE}:1: ${key}`, [`unknown key '${key}'`]);
    });
  }

  test('a bad value names the layer it is in', () => {
    assertUsageError(() => resolveOptions([projectFile({ session: 'pair', ports: ['x'] })], TMPHOME), `${PROJECTFILE}:2: ports`, ["'x'"]);
    assertUsageError(() => resolveOptions([envVarLayer({ SPOON_USER: 'root' }, CWD)], TMPHOME), 'SPOON_USER', ["'root'"]);
    assertUsageError(() => resolveOptions([flags({ listen: 'localhost' })], TMPHOME), '--listen', ["'localhost'"]);
  });

  const overridden: [string, Layer, Layer, string, string][] = [
    ['bad port in the user file, good one from a flag', userFile({ ports: ['x'] }), flags({ ports: '3000' }), `${USERFILE}:1: ports`, "'x'"],
    ['root in the project file, a user from SPOON_USER', projectFile({ user: 'root' }), envVarLayer({ SPOON_USER: 'alice' }, CWD), `${PROJECTFILE}:1: user`, "'root'"],
    ['bad memory in SPOON_MEMORY, good one from a flag', envVarLayer({ SPOON_MEMORY: 'lots' }, CWD), flags({ memory: '2g' }), 'SPOON_MEMORY', "'lots'"],
    ['unknown key in the user file, with an all-good project file', userFile({ bogus: 1 }), projectFile({ user: 'alice' }), `${USERFILE}:1: bogus`, "'bogus'"],
    ['missing bind source in the config file, volumes reset by a flag', configFile({ volumes: ['./nope:/x'] }), flags({ volumes: '' }), `${CFGFILE}:1: volumes`, 'nope'],
  ];
  for (const [what, early, late, where, part] of overridden) {
    test(`every layer is validated in full: ${what}`, () => {
      assertUsageError(() => resolveOptions([early, late], TMPHOME), where, [part]);
    });
  }

  test("relative host paths resolve against each layer's own folder", () => {
    const { options } = resolveOptions(
      [
        userFile({ volumes: ['./data:/u'] }),
        projectFile({ builddir: './docker' }),
        configFile({ authorized_keys: ['./k.pub'] }),
        flags({ copy: undefined }),
      ],
      TMPHOME,
    );
    assert.deepEqual(options.volumes, [{ type: 'bind', source: join(USERDIR, 'data'), target: '/u', readOnly: false }]);
    assert.equal(options.builddir, join(PROJECT, 'docker'));
    assert.deepEqual(options.authorized_keys, [join(CFGDIR, 'k.pub')]);
  });

  test('the same relative path resolves against the folder of the layer that wins', () => {
    const layers = [userFile({ builddir: './ctx', volumes: ['data:/named', './data:/d'] }), projectFile({ builddir: './ctx', volumes: ['./data:/d'] })];
    assert.equal(resolveOptions(layers, TMPHOME).options.builddir, join(PROJECT, 'ctx'));
    assert.equal(resolveOptions(layers, TMPHOME).options.volumes[0]?.source, join(PROJECT, 'data'));
    assert.equal(resolveOptions([...layers, flags({ builddir: '.' })], TMPHOME).options.builddir, CWD);
    assert.equal(resolveOptions([...layers, envVarLayer({ SPOON_BUILDDIR: 'ctx' }, CWD)], TMPHOME).options.builddir, join(CWD, 'ctx'));
  });

  test('~ in host paths is the home passed in', () => {
    const { options } = resolveOptions([projectFile({ builddir: '~/b', copy: ['.gitconfig'] })], TMPHOME);
    assert.equal(options.builddir, join(TMPHOME, 'b'));
    assert.equal(options.copy[0]?.from, join(TMPHOME, '.gitconfig'));
  });

  test('each call returns fresh options and sources', () => {
    const a = resolveOptions([], TMPHOME);
    a.options.persist.push('/x');
    a.sources.user.kind = 'flag';
    const b = resolveOptions([], TMPHOME);
    assert.deepEqual(b.options.persist, ['~']);
    assert.equal(b.sources.user.kind, 'default');
  });

  test('does not change the layers it is given', () => {
    const values = { ports: '3000,8080:80', env: { A: '1' } };
    resolveOptions([projectFile(values)], TMPHOME);
    assert.deepEqual(values, { ports: '3000,8080:80', env: { A: '1' } });
  });
});

describe('envVarLayer', () => {
  test('reads SPOON_<KEY> for known keys only, as raw strings', () => {
    const layer = envVarLayer(
      { SPOON_IMAGE: 'alpine:3', SPOON_CPU_SHARES: '512', SPOON_PORTS: '3000,8080:80', SPOON_FORWARD_AGENT: 'true', SPOON_BOGUS: 'x', spoon_user: 'lower', PATH: '/bin' },
      CWD,
    );
    assert.equal(layer.kind, 'env var');
    assert.equal(layer.origin, 'SPOON_* variables');
    assert.equal(layer.baseDir, CWD);
    assert.deepEqual(layer.values, { image: 'alpine:3', cpu_shares: '512', ports: '3000,8080:80', forward_agent: 'true' });
  });

  test("where(key) is the variable's name", () => {
    const layer = envVarLayer({}, CWD);
    assert.equal(layer.where('cpu_shares'), 'SPOON_CPU_SHARES');
    assert.equal(layer.where('image'), 'SPOON_IMAGE');
    assert.equal(layer.where('forward_agent'), 'SPOON_FORWARD_AGENT');
  });

  test('resolves to typed options with env var provenance', () => {
    const { options, sources } = resolveOptions(
      [envVarLayer({ SPOON_IMAGE: 'alpine:3', SPOON_CPU_SHARES: '512', SPOON_PORTS: '3000,8080:80', SPOON_FORWARD_AGENT: 'true' }, CWD)],
      TMPHOME,
    );
    assert.equal(options.image, 'alpine:3');
    assert.equal(options.cpu_shares, 512);
    assert.deepEqual(options.ports, [tcp(3000), tcp(80, 8080)]);
    assert.equal(options.forward_agent, true);
    assert.deepEqual(sources.cpu_shares, { kind: 'env var', origin: 'SPOON_* variables', where: 'SPOON_CPU_SHARES' });
    assert.equal(sources.user.kind, 'default');
  });

  const strings: [string, string, KeyName, unknown][] = [
    ['SPOON_ENV', 'A=1,B=2', 'env', { A: '1', B: '2' }],
    ['SPOON_LABELS', 'team=web', 'labels', { team: 'web' }],
    ['SPOON_MEMORY', '2g', 'memory', 2 * 1024 ** 3],
    ['SPOON_CPUS', '1.5', 'cpus', 1.5],
    ['SPOON_PRIVILEGED', 'yes', 'privileged', true],
    ['SPOON_PERSIST', '~,/data', 'persist', ['~', '/data']],
    ['SPOON_DNS', '1.1.1.1,8.8.8.8', 'dns', ['1.1.1.1', '8.8.8.8']],
    ['SPOON_FORWARDS', '3000,8080:80', 'forwards', [{ localPort: 3000, remotePort: 3000, bindAddress: '127.0.0.1' }, { localPort: 8080, remotePort: 80, bindAddress: '127.0.0.1' }]],
    ['SPOON_VOLUMES', 'data:/d,./data:/w', 'volumes', [{ type: 'volume', source: 'data', target: '/d', readOnly: false }, { type: 'bind', source: join(CWD, 'data'), target: '/w', readOnly: false }]],
  ];
  for (const [name, value, key, expected] of strings) {
    test(`${name}=${value}`, () => {
      assert.deepEqual(resolveOptions([envVarLayer({ [name]: value }, CWD)], TMPHOME).options[key], expected);
    });
  }

  test('empty and unset variables are ignored and do not override an earlier layer', () => {
    const layer = envVarLayer({ SPOON_IMAGE: '', SPOON_USER: undefined, SPOON_SESSION: '' }, CWD);
    assert.deepEqual(layer.values, {});
    const { options, sources } = resolveOptions([projectFile({ image: 'alpine:3', session: 'work' }), layer], TMPHOME);
    assert.equal(options.image, 'alpine:3');
    assert.equal(sources.image.kind, 'project file');
    assert.equal(options.session, 'work');
  });

  test('every key has a variable, SPOON_ and the key in capitals', () => {
    const env: Record<string, string> = {};
    for (const key of KEY_NAMES) {
      assert.equal(envVarName(key), `SPOON_${key.toUpperCase()}`);
      env[envVarName(key)] = 'v';
    }
    assert.deepEqual(Object.keys(envVarLayer(env, CWD).values).sort(), [...KEY_NAMES].sort());
  });

  test('bad values name the variable', () => {
    assertUsageError(() => resolveOptions([envVarLayer({ SPOON_PRIVILEGED: 'yes please' }, CWD)], TMPHOME), 'SPOON_PRIVILEGED', ["'yes please'"]);
    assertUsageError(() => resolveOptions([envVarLayer({ SPOON_PORTS: '3000,x' }, CWD)], TMPHOME), 'SPOON_PORTS', ["'x'"]);
    assertUsageError(() => resolveOptions([envVarLayer({ SPOON_COPY: '~/.gitconfig' }, CWD)], TMPHOME), 'SPOON_COPY', ['config file']);
  });
});

describe('configHash', () => {
  const base = (): EnvOptions => ({
    ...defaultOptions(),
    image: 'alpine:3',
    ports: [tcp(3000), tcp(80, 8080), { container: 53, host: undefined, protocol: 'udp' }],
    labels: { team: 'web', tier: 'front', a: '1' },
    env: { NODE_ENV: 'development', A: '1', Z: 'z' },
    memory: 1024 ** 3,
  });

  test('is 16 hex digits, stable across calls and for equal options', () => {
    const h = configHash(base());
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.equal(configHash(base()), h);
    assert.equal(configHash(base()), configHash(structuredClone(base())));
    assert.equal(configHash(defaultOptions()), configHash(defaultOptions()));
    assert.notEqual(configHash(defaultOptions()), h);
  });

  test('does not reorder or otherwise change the options it hashes', () => {
    const o = base();
    configHash(o);
    assert.deepEqual(o, base());
  });

  const changes: [string, (o: EnvOptions) => void][] = [
    ['a port is added', (o) => o.ports.push(tcp(9000))],
    ['a port is removed', (o) => o.ports.pop()],
    ["a port's host side", (o) => (o.ports[0] = tcp(3000, 3000))],
    ["a port's protocol", (o) => (o.ports[0] = { container: 3000, host: undefined, protocol: 'udp' })],
    ['the image', (o) => (o.image = 'alpine:4')],
    ['the image is unset', (o) => (o.image = undefined)],
    ['memory', (o) => (o.memory = 2 * 1024 ** 3)],
    ['memory is unset', (o) => (o.memory = undefined)],
    ['a volume is added', (o) => o.volumes.push({ type: 'volume', source: 'cache', target: '/cache', readOnly: false })],
    ['an env value', (o) => (o.env.A = '2')],
    ['an env entry is added', (o) => (o.env.NEW = '')],
    ['an env entry is removed', (o) => delete o.env.Z],
    ['a label value', (o) => (o.labels.team = 'api')],
    ['a label is added', (o) => (o.labels.extra = 'x')],
    ['user', (o) => (o.user = 'alice')],
    ['listen', (o) => (o.listen = '0.0.0.0')],
    ['cpus', (o) => (o.cpus = 2)],
    ['cpu_shares', (o) => (o.cpu_shares = 512)],
    ['dns', (o) => o.dns.push('1.1.1.1')],
    ['privileged', (o) => (o.privileged = true)],
    ['persist', (o) => o.persist.push('/data')],
    ['copy', (o) => o.copy.push({ from: '/h/.gitconfig', to: '~/.gitconfig', mode: undefined })],
    ['authorized_keys', (o) => o.authorized_keys.push('ssh-ed25519 AAAA')],
    ['run_on_create', (o) => o.run_on_create.push('npm ci')],
    ['builddir', (o) => (o.builddir = '/p/docker')],
    ['prefix', (o) => (o.prefix = 'x-')],
  ];
  for (const [what, change] of changes) {
    test(`changes with: ${what}`, () => {
      const o = base();
      change(o);
      assert.notEqual(configHash(o), configHash(base()));
    });
  }

  test('changes when a volume becomes read-only', () => {
    const rw = { ...base(), volumes: [{ type: 'volume' as const, source: 'c', target: '/c', readOnly: false }] };
    const ro = { ...base(), volumes: [{ type: 'volume' as const, source: 'c', target: '/c', readOnly: true }] };
    assert.notEqual(configHash(rw), configHash(ro));
  });

  const same: [string, (o: EnvOptions) => void][] = [
    ['the ports are given in another order', (o) => o.ports.reverse()],
    ['the labels are given in another order', (o) => (o.labels = Object.fromEntries(Object.entries(o.labels).reverse()))],
    ['the env entries are given in another order', (o) => (o.env = Object.fromEntries(Object.entries(o.env).reverse()))],
    ['session', (o) => (o.session = 'other')],
    ['forwards', (o) => o.forwards.push({ localPort: 1, remotePort: 2, bindAddress: '127.0.0.1' })],
    ['forward_agent', (o) => (o.forward_agent = true)],
    ['shell', (o) => (o.shell = '/bin/zsh')],
    ['command', (o) => (o.command = 'bash')],
    ['prebuild', (o) => o.prebuild.push('make')],
  ];
  for (const [what, change] of same) {
    test(`does not change with: ${what}`, () => {
      const o = base();
      change(o);
      assert.equal(configHash(o), configHash(base()));
    });
  }

  test('ports typed in another order through a flag hash the same', () => {
    const a = resolveOptions([flags({ ports: '3000,8080:80,53/udp' })], TMPHOME).options;
    const b = resolveOptions([flags({ ports: '53/udp,3000,8080:80' })], TMPHOME).options;
    assert.equal(configHash(a), configHash(b));
  });

  test('labels and env typed in another order through a flag hash the same', () => {
    const a = resolveOptions([flags({ labels: 'a=1,b=2', env: 'X=1,Y=2' })], TMPHOME).options;
    const b = resolveOptions([flags({ labels: 'b=2,a=1', env: 'Y=2,X=1' })], TMPHOME).options;
    assert.equal(configHash(a), configHash(b));
  });

  test('every creation key, and only those, changes the hash', () => {
    const d = defaultOptions();
    const samples: { [K in KeyName]: EnvOptions[K] } = {
      image: 'img',
      builddir: '/b',
      prebuild: ['make'],
      user: 'alice',
      session: 'other',
      listen: '0.0.0.0',
      ports: [tcp(1)],
      forwards: [{ localPort: 1, remotePort: 1, bindAddress: '127.0.0.1' }],
      copy: [{ from: '/a', to: '/a', mode: undefined }],
      authorized_keys: ['ssh-ed25519 AAAA'],
      run_on_create: ['x'],
      cpus: 1,
      cpu_shares: 2,
      memory: 8 * 1024 ** 2,
      dns: ['1.1.1.1'],
      volumes: [{ type: 'volume', source: '', target: '/v', readOnly: false }],
      privileged: true,
      env: { A: '1' },
      labels: { a: '1' },
      persist: [],
      forward_agent: true,
      shell: 'zsh',
      command: 'bash',
      prefix: 'x-',
      idle_stop: 60,
      backend: 'swarm',
      node: 'worker-1',
      pool: 2,
    };
    for (const key of KEY_NAMES) {
      const o = { ...d, [key]: samples[key] } as EnvOptions;
      if (KEYS[key].creation) assert.notEqual(configHash(o), configHash(d), `${key} should change the hash`);
      else assert.equal(configHash(o), configHash(d), `${key} should not change the hash`);
    }
  });
});

test('idle_stop left unset does not change the hash of envs made before the key existed', () => {
  // The defaults' hash before idle_stop was added.
  assert.equal(configHash(defaultOptions()), '6792825fab75da4e');
});

describe('hasCreationSettings', () => {
  test('is false for the defaults alone', () => {
    assert.equal(hasCreationSettings(resolveOptions([], TMPHOME)), false);
  });

  test('is false when only session and forwards come from flags', () => {
    assert.equal(hasCreationSettings(resolveOptions([flags({ session: 'work', forwards: '3000,8080:80' })], TMPHOME)), false);
  });

  test('is false when only non-creation keys are set, from any layer', () => {
    const r = resolveOptions(
      [
        userFile({ prebuild: ['make'], shell: '/bin/zsh' }),
        projectFile({ command: 'bash', forward_agent: true }),
        envVarLayer({ SPOON_SESSION: 's', SPOON_FORWARD_AGENT: 'false' }, CWD),
        flags({ forwards: '9000' }),
      ],
      TMPHOME,
    );
    assert.equal(hasCreationSettings(r), false);
  });

  test('is true when ports come from an env var', () => {
    assert.equal(hasCreationSettings(resolveOptions([envVarLayer({ SPOON_PORTS: '3000' }, CWD)], TMPHOME)), true);
  });

  const creation: [KeyName, unknown][] = [
    ['image', 'alpine:3'],
    ['builddir', '.'],
    ['user', 'alice'],
    ['listen', '0.0.0.0'],
    ['ports', [3000]],
    ['copy', ['.gitconfig']],
    ['authorized_keys', ['ssh-ed25519 AAAA']],
    ['run_on_create', ['npm ci']],
    ['cpus', 2],
    ['cpu_shares', 512],
    ['memory', '1g'],
    ['dns', ['1.1.1.1']],
    ['volumes', ['/v']],
    ['privileged', true],
    ['env', { A: '1' }],
    ['labels', { a: '1' }],
    ['persist', ['~']],
    ['prefix', 'x-'],
    ['idle_stop', '2h'],
    ['node', 'worker-1'],
  ];
  test('the table below covers every creation key', () => {
    assert.deepEqual(
      creation.map(([k]) => k).sort(),
      KEY_NAMES.filter((k) => KEYS[k].creation).sort(),
    );
  });
  for (const [key, value] of creation) {
    test(`is true when ${key} comes from the project file`, () => {
      assert.equal(hasCreationSettings(resolveOptions([projectFile({ [key]: value })], TMPHOME)), true);
    });
  }
});
