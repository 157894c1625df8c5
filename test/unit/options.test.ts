import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULTS,
  configHash,
  defaultLayer,
  envVarLayer,
  parseForwardSpec,
  parsePortSpec,
  resolveOptions,
  type EnvOptions,
  type Layer,
  type PortSpec,
  type RawOptions,
} from '../../src/core/options.js';
import { UsageError } from '../../src/errors.js';

/** Asserts fn throws a UsageError (exit 2) whose message contains every one of `parts`. */
function assertUsageError(fn: () => unknown, parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(p)}`);
    return true;
  });
}

const flagNames: Record<keyof RawOptions, string> = {
  image: '--image',
  user: '--user',
  session: '--session',
  listen: '--listen',
  prefix: '--prefix',
  ports: '--publish',
  forwards: '--forward',
  labels: '--label',
};

function flagLayer(values: RawOptions): Layer {
  return { source: 'flag', describe: (k) => flagNames[k], values };
}

describe('parsePortSpec', () => {
  const valid: [string, PortSpec][] = [
    ['3000', { container: 3000, host: undefined, protocol: 'tcp' }],
    ['8080:80', { container: 80, host: 8080, protocol: 'tcp' }],
    ['53/udp', { container: 53, host: undefined, protocol: 'udp' }],
    ['5353:53/udp', { container: 53, host: 5353, protocol: 'udp' }],
    ['443/tcp', { container: 443, host: undefined, protocol: 'tcp' }],
    ['1', { container: 1, host: undefined, protocol: 'tcp' }],
    ['65535', { container: 65535, host: undefined, protocol: 'tcp' }],
    [' 3000 ', { container: 3000, host: undefined, protocol: 'tcp' }],
  ];
  for (const [spec, expected] of valid) {
    test(`accepts ${JSON.stringify(spec)}`, () => {
      assert.deepEqual(parsePortSpec(spec, '--publish'), expected);
    });
  }

  const invalid = ['0', '70000', '65536', 'abc', '1:2:3', '', '8080:', ':80', '80/sctp', '0:80', '8080:0', '-1', '3000/'];
  for (const spec of invalid) {
    test(`rejects ${JSON.stringify(spec)} with a UsageError naming where and the value`, () => {
      assertUsageError(() => parsePortSpec(spec, '--publish'), ['--publish', `'${spec}'`]);
    });
  }

  test('the where string is used verbatim', () => {
    assertUsageError(() => parsePortSpec('abc', 'SPOON_SOMETHING'), ['SPOON_SOMETHING: invalid value \'abc\'']);
  });
});

describe('parseForwardSpec', () => {
  const valid: [string, { localPort: number; remotePort: number }][] = [
    ['3000', { localPort: 3000, remotePort: 3000 }],
    ['8080:80', { localPort: 8080, remotePort: 80 }],
    ['1:65535', { localPort: 1, remotePort: 65535 }],
  ];
  for (const [spec, expected] of valid) {
    test(`accepts ${spec}`, () => {
      assert.deepEqual(parseForwardSpec(spec, '--forward'), { ...expected, bindAddress: '127.0.0.1' });
    });
  }

  const invalid = ['0', '70000', 'abc', '1:2:3', '', '53/udp', '8080:', ':80', '0:80', 'host:80'];
  for (const spec of invalid) {
    test(`rejects ${JSON.stringify(spec)}`, () => {
      assertUsageError(() => parseForwardSpec(spec, '--forward'), ['--forward', `'${spec}'`]);
    });
  }
});

describe('envVarLayer', () => {
  test('reads SPOON_<KEY> for the scalar keys', () => {
    const layer = envVarLayer({
      SPOON_IMAGE: 'alpine:3',
      SPOON_USER: 'alice',
      SPOON_SESSION: 'work',
      SPOON_LISTEN: '0.0.0.0',
      SPOON_PREFIX: 'x-',
      SPOON_PORTS: '3000',
      OTHER: 'ignored',
    });
    assert.equal(layer.source, 'env var');
    assert.deepEqual(layer.values, { image: 'alpine:3', user: 'alice', session: 'work', listen: '0.0.0.0', prefix: 'x-' });
    assert.equal(layer.describe('user'), 'SPOON_USER');
  });

  test('empty and missing variables are not set', () => {
    assert.deepEqual(envVarLayer({ SPOON_IMAGE: '', SPOON_USER: undefined }).values, {});
  });
});

describe('resolveOptions', () => {
  test('defaults only', () => {
    const { options, sources } = resolveOptions([defaultLayer()]);
    assert.deepEqual(options, {
      image: undefined,
      user: 'dev',
      session: 'pair',
      listen: '127.0.0.1',
      prefix: 'spoon-',
      ports: [],
      forwards: [],
      labels: {},
    });
    for (const v of Object.values(sources)) assert.equal(v, 'default');
    assert.equal(Object.keys(sources).length, 8);
  });

  test('env vars override defaults and are recorded as env var', () => {
    const { options, sources } = resolveOptions([defaultLayer(), envVarLayer({ SPOON_IMAGE: 'alpine:3', SPOON_USER: 'alice', SPOON_LISTEN: '::1' })]);
    assert.equal(options.image, 'alpine:3');
    assert.equal(options.user, 'alice');
    assert.equal(options.listen, '::1');
    assert.equal(options.session, 'pair');
    assert.deepEqual(sources, {
      image: 'env var',
      user: 'env var',
      session: 'default',
      listen: 'env var',
      prefix: 'default',
      ports: 'default',
      forwards: 'default',
      labels: 'default',
    });
  });

  test('flags override env vars (later layers win)', () => {
    const { options, sources } = resolveOptions([
      defaultLayer(),
      envVarLayer({ SPOON_USER: 'alice', SPOON_SESSION: 'envsession', SPOON_PREFIX: 'env-' }),
      flagLayer({ user: 'bob', ports: ['3000', '8080:80/udp'], forwards: ['9000'], labels: ['team=web', 'solo'] }),
    ]);
    assert.equal(options.user, 'bob');
    assert.equal(sources.user, 'flag');
    assert.equal(options.session, 'envsession');
    assert.equal(sources.session, 'env var');
    assert.equal(options.prefix, 'env-');
    assert.equal(sources.prefix, 'env var');
    assert.deepEqual(options.ports, [
      { container: 3000, host: undefined, protocol: 'tcp' },
      { container: 80, host: 8080, protocol: 'udp' },
    ]);
    assert.equal(sources.ports, 'flag');
    assert.deepEqual(options.forwards, [{ localPort: 9000, remotePort: 9000, bindAddress: '127.0.0.1' }]);
    assert.equal(sources.forwards, 'flag');
    assert.deepEqual(options.labels, { team: 'web', solo: '' });
    assert.equal(sources.labels, 'flag');
    assert.equal(sources.image, 'default');
  });

  test('a later list replaces an earlier one', () => {
    const first: Layer = { source: 'env var', describe: (k) => `E_${k}`, values: { ports: ['3000'] } };
    const { options, sources } = resolveOptions([defaultLayer(), first, flagLayer({ ports: ['4000'] })]);
    assert.deepEqual(options.ports, [{ container: 4000, host: undefined, protocol: 'tcp' }]);
    assert.equal(sources.ports, 'flag');
  });

  test('undefined values in a later layer do not override', () => {
    const { options, sources } = resolveOptions([defaultLayer(), flagLayer({ user: undefined, image: undefined })]);
    assert.equal(options.user, 'dev');
    assert.equal(sources.user, 'default');
  });

  test('an explicit empty image means the default image', () => {
    const { options, sources } = resolveOptions([defaultLayer(), flagLayer({ image: '' })]);
    assert.equal(options.image, undefined);
    assert.equal(sources.image, 'flag');
  });

  test('user root is rejected, naming the source', () => {
    assertUsageError(() => resolveOptions([defaultLayer(), envVarLayer({ SPOON_USER: 'root' })]), ['SPOON_USER', "'root'"]);
    assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ user: 'root' })]), ['--user', "'root'"]);
  });

  for (const user of ['Dev', '1dev', 'a b', 'dev;rm', '']) {
    test(`user ${JSON.stringify(user)} is rejected`, () => {
      assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ user })]), ['--user', `'${user}'`]);
    });
  }

  for (const listen of ['0.0.0.0', '127.0.0.1', '::', '::1', '192.168.1.10']) {
    test(`listen ${listen} is accepted`, () => {
      assert.equal(resolveOptions([defaultLayer(), flagLayer({ listen })]).options.listen, listen);
    });
  }

  for (const listen of ['localhost', '1.2.3', 'example.com', '256.0.0.1', '127.0.0.1:80']) {
    test(`listen ${listen} is rejected (must be an IP)`, () => {
      assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ listen })]), ['--listen', `'${listen}'`]);
    });
    test(`listen ${listen} from SPOON_LISTEN names the env var`, () => {
      assertUsageError(() => resolveOptions([defaultLayer(), envVarLayer({ SPOON_LISTEN: listen })]), ['SPOON_LISTEN', `'${listen}'`]);
    });
  }

  const labelCases: [string[], Record<string, string>][] = [
    [['k=v'], { k: 'v' }],
    [['k=v', 'a.b/c=1'], { k: 'v', 'a.b/c': '1' }],
    [['k=a=b'], { k: 'a=b' }],
    [['k='], { k: '' }],
    [['k'], { k: '' }],
    [['k=1', 'k=2'], { k: '2' }],
  ];
  for (const [labels, expected] of labelCases) {
    test(`labels ${JSON.stringify(labels)} parse`, () => {
      assert.deepEqual(resolveOptions([defaultLayer(), flagLayer({ labels })]).options.labels, expected);
    });
  }

  for (const label of ['dev.spoon.x=1', 'dev.spoon.name=evil', '=v', '-k=v', 'a b=c']) {
    test(`label ${JSON.stringify(label)} is rejected`, () => {
      assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ labels: ['ok=1', label] })]), ['--label', `'${label}'`]);
    });
  }

  test('bad session and prefix are rejected', () => {
    assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ session: 'a b' })]), ['--session', "'a b'"]);
    assertUsageError(() => resolveOptions([defaultLayer(), envVarLayer({ SPOON_PREFIX: '-x' })]), ['SPOON_PREFIX', "'-x'"]);
  });

  test('a bad port in a flag layer names --publish', () => {
    assertUsageError(() => resolveOptions([defaultLayer(), flagLayer({ ports: ['3000', '99999'] })]), ['--publish', "'99999'"]);
  });

  test('DEFAULTS are as documented', () => {
    assert.equal(DEFAULTS.user, 'dev');
    assert.equal(DEFAULTS.session, 'pair');
    assert.equal(DEFAULTS.listen, '127.0.0.1');
    assert.equal(DEFAULTS.prefix, 'spoon-');
  });
});

describe('configHash', () => {
  const base = (): EnvOptions => ({
    image: undefined,
    user: 'dev',
    session: 'pair',
    listen: '127.0.0.1',
    prefix: 'spoon-',
    ports: [{ container: 3000, host: undefined, protocol: 'tcp' }],
    forwards: [],
    labels: { a: '1', b: '2' },
  });

  test('is a stable 16-hex-digit string for equal options', () => {
    const h = configHash(base());
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.equal(configHash(base()), h);
  });

  test('does not depend on session or forwards', () => {
    const other = { ...base(), session: 'other', forwards: [{ localPort: 1, remotePort: 2, bindAddress: '127.0.0.1' }] };
    assert.equal(configHash(other), configHash(base()));
  });

  const changes: [string, Partial<EnvOptions>][] = [
    ['ports', { ports: [{ container: 3001, host: undefined, protocol: 'tcp' }] }],
    ['port host', { ports: [{ container: 3000, host: 3000, protocol: 'tcp' }] }],
    ['port protocol', { ports: [{ container: 3000, host: undefined, protocol: 'udp' }] }],
    ['no ports', { ports: [] }],
    ['image', { image: 'alpine:3' }],
    ['user', { user: 'alice' }],
    ['listen', { listen: '0.0.0.0' }],
    ['labels', { labels: { a: '1' } }],
  ];
  for (const [what, change] of changes) {
    test(`differs when ${what} differ`, () => {
      assert.notEqual(configHash({ ...base(), ...change }), configHash(base()));
    });
  }

  // Labels are a record (unordered): the same --label flags given in another
  // order make an identical container, so they must hash the same.
  test('does not depend on the order labels were given in', () => {
    assert.equal(configHash({ ...base(), labels: { b: '2', a: '1' } }), configHash(base()));
  });
});
