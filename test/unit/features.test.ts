import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import {
  derivedImageContext,
  derivedImageTag,
  installOrder,
  optionEnv,
  optionEnvName,
  parseFeatureId,
  readFeatureMetadata,
  type DerivedImageInput,
  type FeatureRef,
  type OrderItem,
} from '../../src/config/features.js';
import { FEATURE_LAYER_MEDIA_TYPE, featureLayer, fetchOciFeature, isLoopbackRegistry, parseAuthenticate, untar } from '../../src/images/oci.js';
import { RuntimeError, UsageError } from '../../src/errors.js';

const resolveDir = (rel: string) => `/p/.devcontainer/${rel.replace(/^\.\//, '')}`;

describe('parseFeatureId', () => {
  test('registry references: tag, no tag (latest), digest, a registry with a port', () => {
    assert.deepEqual(parseFeatureId('ghcr.io/devcontainers/features/node:1', resolveDir), { kind: 'oci', registry: 'ghcr.io', repository: 'devcontainers/features/node', reference: '1', resource: 'ghcr.io/devcontainers/features/node' });
    assert.deepEqual(parseFeatureId('GHCR.io/Acme/Tool', resolveDir), { kind: 'oci', registry: 'ghcr.io', repository: 'acme/tool', reference: 'latest', resource: 'ghcr.io/acme/tool' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseFeatureId(`ghcr.io/acme/f/tool@${digest}`, resolveDir), { kind: 'oci', registry: 'ghcr.io', repository: 'acme/f/tool', reference: digest, resource: 'ghcr.io/acme/f/tool' });
    assert.deepEqual(parseFeatureId('127.0.0.1:5000/acme/tool:2', resolveDir), { kind: 'oci', registry: '127.0.0.1:5000', repository: 'acme/tool', reference: '2', resource: '127.0.0.1:5000/acme/tool' });
    assert.deepEqual(parseFeatureId('localhost/acme/tool', resolveDir), { kind: 'oci', registry: 'localhost', repository: 'acme/tool', reference: 'latest', resource: 'localhost/acme/tool' });
  });

  test('local folders resolve against devcontainer.json\'s folder', () => {
    assert.deepEqual(parseFeatureId('./my-feature', resolveDir), { kind: 'local', dir: '/p/.devcontainer/my-feature' });
  });

  test('what is neither is an error', () => {
    for (const id of ['node', 'https://x.example/f.tgz', '/abs/folder', 'ghcr.io/tool', 'ghcr.io/acme/tool@md5:1', 'ghcr.io/acme/tool:bad tag']) {
      assert.ok('error' in parseFeatureId(id, resolveDir), id);
    }
  });
});

describe('options', () => {
  test('option names become the spec\'s environment variable names', () => {
    assert.equal(optionEnvName('version'), 'VERSION');
    assert.equal(optionEnvName('install-tools'), 'INSTALL_TOOLS');
    assert.equal(optionEnvName('node.version'), 'NODE_VERSION');
    assert.equal(optionEnvName('3d'), '_D');
    assert.equal(optionEnvName('_x'), '_X');
  });

  test('values from devcontainer.json win over defaults; booleans as true/false; undeclared ones pass and are listed', () => {
    const meta = readFeatureMetadata(
      JSON.stringify({ id: 'f', options: { greeting: { type: 'string', default: 'hi' }, 'enable-x': { type: 'boolean', default: false }, none: { type: 'string' } } }),
      'f.json',
    );
    assert.deepEqual(optionEnv(meta, {}), { env: { GREETING: 'hi', ENABLE_X: 'false' }, unknown: [] });
    assert.deepEqual(optionEnv(meta, { greeting: 'it\'s "$HOME"', 'enable-x': true, extra: 'e' }), { env: { GREETING: 'it\'s "$HOME"', ENABLE_X: 'true', EXTRA: 'e' }, unknown: ['extra'] });
  });
});

describe('readFeatureMetadata', () => {
  test('reads id, version, options, installsAfter, dependsOn, containerEnv', () => {
    const meta = readFeatureMetadata(
      `{
  // comments are fine
  "id": "tool", "version": "1.2.0",
  "options": { "v": { "type": "string", "enum": ["1", "2"], "default": "1" } },
  "installsAfter": ["ghcr.io/devcontainers/features/common-utils"],
  "dependsOn": { "ghcr.io/acme/base:1": { "x": true } },
  "containerEnv": { "TOOL_HOME": "/opt/tool", "PATH": "/opt/tool/bin:\${PATH}" },
  "privileged": true, "postCreateCommand": "x",
}`,
      'f.json',
    );
    assert.deepEqual(meta, {
      id: 'tool',
      version: '1.2.0',
      options: { v: { type: 'string', default: '1' } },
      installsAfter: ['ghcr.io/devcontainers/features/common-utils'],
      dependsOn: { 'ghcr.io/acme/base:1': { x: true } },
      containerEnv: { TOOL_HOME: '/opt/tool', PATH: '/opt/tool/bin:${PATH}' },
      notApplied: ['privileged', 'postCreateCommand'],
    });
  });

  test('an unknown option type, a default of the wrong type, a missing id: exit 2 naming file, line and key', () => {
    const err = (text: string): string => {
      try {
        readFeatureMetadata(text, '/f/devcontainer-feature.json');
      } catch (e) {
        assert.ok(e instanceof UsageError);
        return e.message;
      }
      return assert.fail('no error');
    };
    assert.equal(err('{\n  "id": "f",\n  "options": { "n": { "type": "number" } }\n}'), "/f/devcontainer-feature.json:3:31: options.n.type: unknown option type 'number' (expected \"string\" or \"boolean\")");
    assert.equal(err('{ "id": "f", "options": { "b": { "type": "boolean", "default": "yes" } } }'), '/f/devcontainer-feature.json:1:64: options.b.default: expected true or false, got "yes"');
    assert.match(err('{ "version": "1" }'), /^\/f\/devcontainer-feature\.json:1:1: id: missing/);
    assert.match(err('{ "id": "f", "containerEnv": { "A": 1 } }'), /:1:37: containerEnv\.A: expected a string, got 1/);
    assert.match(err('{ "id": "f", "containerEnv": { "A B": "1" } }'), /:1:32: containerEnv\.A B: not a valid environment variable name/);
    assert.match(err('{ "id": "a/b" }'), /:1:9: id: 'a\/b' is not a valid id/);
  });
});

describe('installOrder', () => {
  const item = (key: string, installsAfter: string[] = [], dependsOn: string[] = []): OrderItem => ({ key, metaId: key.split('/').pop()!.replace(/:.*/, ''), installsAfter, dependsOn });
  const keys = (items: OrderItem[]) => items.map((i) => i.key);
  const byRef = (ref: string) => ref;

  test('without constraints: by key, whatever the file order', () => {
    assert.deepEqual(keys(installOrder([item('/d/b'), item('/d/a'), item('/d/c')], byRef)), ['/d/a', '/d/b', '/d/c']);
  });

  test('installsAfter (by key, by id, by reference with a tag) and dependsOn come first', () => {
    const a = item('/d/a', ['/d/b']);
    const b = item('/d/b', ['c']);
    const c = item('/d/c');
    assert.deepEqual(keys(installOrder([a, b, c], byRef)), ['/d/c', '/d/b', '/d/a']);
    const x = item('ghcr.io/acme/x', ['ghcr.io/acme/y:2']);
    const y = item('ghcr.io/acme/y');
    assert.deepEqual(keys(installOrder([x, y], byRef)), ['ghcr.io/acme/y', 'ghcr.io/acme/x']);
    assert.deepEqual(keys(installOrder([item('/d/a', [], ['/d/z']), item('/d/z')], byRef)), ['/d/z', '/d/a']);
  });

  test('installsAfter a feature that is not in the set is no constraint', () => {
    assert.deepEqual(keys(installOrder([item('/d/b', ['ghcr.io/x/absent']), item('/d/a')], byRef)), ['/d/a', '/d/b']);
  });

  test('overrideFeatureInstallOrder wins a round', () => {
    assert.deepEqual(keys(installOrder([item('/d/a'), item('/d/b'), item('/d/c')], byRef, ['/d/c', '/d/b'])), ['/d/c', '/d/b', '/d/a']);
    // ... but not over a dependency.
    assert.deepEqual(keys(installOrder([item('/d/a'), item('/d/c', ['/d/a'])], byRef, ['/d/c'])), ['/d/a', '/d/c']);
  });

  test('a cycle is an error naming the features', () => {
    assert.throws(() => installOrder([item('/d/a', ['/d/b']), item('/d/b', ['/d/a']), item('/d/c')], byRef), (e: unknown) => e instanceof UsageError && /cycle among \/d\/a, \/d\/b$/.test(e.message));
  });
});

describe('the derived image', () => {
  const ref: FeatureRef = { id: './f', source: { kind: 'local', dir: '/p/f' }, options: {}, where: 'x' };
  const input = (over: Partial<DerivedImageInput> = {}, install = 'echo one'): DerivedImageInput => ({
    baseId: 'sha256:base1',
    baseUser: 'node',
    containerUser: 'node',
    remoteUser: 'node',
    features: [
      {
        ref,
        meta: { id: 'f', version: '1', options: {}, installsAfter: [], dependsOn: {}, containerEnv: { F_HOME: '/opt/f', PATH: '/opt/f/bin:${PATH}' }, notApplied: [] },
        files: [
          { path: 'install.sh', content: Buffer.from(install), mode: 0o755 },
          { path: 'devcontainer-feature.json', content: Buffer.from('{}'), mode: 0o644 },
        ],
        env: { GREETING: "it's" },
      },
    ],
    ...over,
  });

  test('the tag is a content hash: the same for the same inputs, new for a new base, file, option or user', () => {
    const tag = derivedImageTag(input());
    assert.match(tag, /^spoon-features:[0-9a-f]{16}$/);
    assert.equal(derivedImageTag(input()), tag);
    assert.notEqual(derivedImageTag(input({ baseId: 'sha256:base2' })), tag);
    assert.notEqual(derivedImageTag(input({}, 'echo two')), tag);
    assert.notEqual(derivedImageTag(input({ remoteUser: 'root' })), tag);
    const other = input();
    other.features[0]!.env = { GREETING: 'its' };
    assert.notEqual(derivedImageTag(other), tag);
  });

  test('the Dockerfile: FROM the base id, installs as root with the option env quoted, containerEnv as ENV, the base user restored', () => {
    const files = derivedImageContext(input());
    const dockerfile = String(files.find((f) => f.path === 'Dockerfile')!.content);
    assert.match(dockerfile, /^FROM sha256:base1\nUSER root\n/);
    assert.match(dockerfile, /ENV F_HOME="\/opt\/f"\nENV PATH="\/opt\/f\/bin:\$\{PATH\}"\nCOPY 0-f \/tmp\/dev-container-features\/0-f\n/);
    assert.match(dockerfile, /\n && \.\/install\.sh\n\nUSER node\n$/);
    assert.equal(String(files.find((f) => f.path === '0-f/devcontainer-features.env')!.content), "GREETING='it'\\''s'\n");
    assert.equal(String(files.find((f) => f.path === 'devcontainer-features.builtin.env')!.content), "_CONTAINER_USER='node'\n_REMOTE_USER='node'\n");
    assert.ok(files.some((f) => f.path === '0-f/install.sh' && f.mode === 0o755));
  });
});

describe('OCI', () => {
  const digest = `sha256:${'b'.repeat(64)}`;

  test('the manifest\'s feature layer', () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.devcontainers', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
      layers: [{ mediaType: FEATURE_LAYER_MEDIA_TYPE, digest, size: 10240, annotations: { 'org.opencontainers.image.title': 'devcontainer-feature-x.tgz' } }],
    });
    assert.deepEqual(featureLayer(manifest, 'feature x'), { digest, size: 10240 });
    assert.throws(() => featureLayer(JSON.stringify({ layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 1 }] }), 'feature x'), (e: unknown) => e instanceof RuntimeError && /feature x: the manifest has no layer of type application\/vnd\.devcontainers\.layer\.v1\+tar/.test(e.message));
    assert.throws(() => featureLayer('not json', 'feature x'), /not JSON/);
  });

  test('plain http only for loopback registries', () => {
    for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.ok(isLoopbackRegistry(r), r);
    for (const r of ['ghcr.io', '10.0.0.1:5000', 'localhost.example.com', '127.0.0.1.example.com']) assert.ok(!isLoopbackRegistry(r), r);
  });

  test('WWW-Authenticate', () => {
    assert.deepEqual(parseAuthenticate('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'), { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull' });
    assert.equal(parseAuthenticate('Basic realm="x"'), undefined);
  });

  const tarball = async (files: Record<string, string>): Promise<Buffer> => {
    const p = pack();
    for (const [name, content] of Object.entries(files)) p.entry({ name, mode: name.endsWith('.sh') ? 0o755 : 0o644 }, content);
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  test('untar: plain and gzipped, ./ prefixes dropped', async () => {
    const tar = await tarball({ './devcontainer-feature.json': '{}', './install.sh': 'echo' });
    for (const data of [tar, gzipSync(tar)]) {
      const files = await untar(data, 'x');
      assert.deepEqual(files.map((f) => [f.path, f.mode, f.content.toString()]), [['devcontainer-feature.json', 0o644, '{}'], ['install.sh', 0o755, 'echo']]);
    }
  });

  test('fetch: the token flow, the digest checked, the host and feature named when unreachable', async () => {
    const blob = await tarball({ 'devcontainer-feature.json': '{ "id": "x" }', 'install.sh': 'echo' });
    const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const seen: string[] = [];
    const fake = (async (input: string | URL, init?: RequestInit) => {
      const url = String(input);
      const auth = (init?.headers as Record<string, string>)?.authorization;
      seen.push(`${url}${auth ? ` ${auth}` : ''}`);
      if (url.startsWith('https://auth.example/token')) return new Response(JSON.stringify({ token: 'T' }));
      if (auth !== 'Bearer T') return new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="reg",scope="repository:acme/x:pull"' } });
      if (url.endsWith('/manifests/1')) return new Response(JSON.stringify({ layers: [{ mediaType: FEATURE_LAYER_MEDIA_TYPE, digest: blobDigest, size: blob.length }] }));
      if (url.endsWith(`/blobs/${blobDigest}`)) return new Response(blob);
      return new Response('', { status: 404 });
    }) as typeof fetch;
    const ref: FeatureRef = { id: 'reg.example/acme/x:1', source: { kind: 'oci', registry: 'reg.example', repository: 'acme/x', reference: '1', resource: 'reg.example/acme/x' }, options: {}, where: 'w' };
    const got = await fetchOciFeature(ref, fake);
    assert.equal(got.digest, blobDigest);
    assert.deepEqual(got.files.map((f) => f.path), ['devcontainer-feature.json', 'install.sh']);
    assert.deepEqual(seen, [
      'https://reg.example/v2/acme/x/manifests/1',
      'https://auth.example/token?service=reg&scope=repository%3Aacme%2Fx%3Apull',
      'https://reg.example/v2/acme/x/manifests/1 Bearer T',
      `https://reg.example/v2/acme/x/blobs/${blobDigest} Bearer T`,
    ]);

    const refused = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    }) as typeof fetch;
    await assert.rejects(fetchOciFeature(ref, refused), (e: unknown) => e instanceof RuntimeError && e.exitCode === 1 && /^cannot fetch feature 'reg\.example\/acme\/x:1' from reg\.example: ECONNREFUSED/.test(e.message));

    const wrongBlob = (async (input: string | URL, init?: RequestInit) => (String(input).includes('/blobs/') ? new Response('other') : fake(input, init))) as typeof fetch;
    await assert.rejects(fetchOciFeature(ref, wrongBlob), /does not match its digest/);
  });
});
