/**
 * devcontainer Features end to end: two local features (installsAfter, options,
 * containerEnv) installed into a derived image that a second env reuses and a
 * changed install.sh rebuilds; a registry feature fetched from a stand-in OCI
 * registry this test serves on 127.0.0.1 (with the anonymous token flow); an
 * unreachable registry named in the error; bad feature folders (exit 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { api, containersLabelled, defaultImageTag, freePort, useSandbox } from './harness.js';

const box = useSandbox();
/** Derived images this file made: removed afterwards (they carry no run label). */
const images = new Set<string>();

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode });
}

/** A project folder whose devcontainer.json is `json` plus this run's label (so envs are cleaned up). */
function project(dirName: string, dc: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = join(box.dir, dirName);
  mkdirSync(join(dir, '.git'), { recursive: true });
  write(join(dir, '.devcontainer', 'devcontainer.json'), JSON.stringify({ ...dc, customizations: { spoon: { labels: { 'test.spoon.run': box.runId } } } }, null, 2));
  for (const [path, text] of Object.entries(files)) write(join(dir, '.devcontainer', path), text, path.endsWith('.sh') ? 0o755 : 0o644);
  return dir;
}

async function imageOf(name: string): Promise<string> {
  const c = (await api<{ Config: { Image: string } }>('GET', `/containers/spoon-${name}/json`)).body;
  assert.ok(c, `no container for ${name}`);
  if (c.Config.Image.startsWith('spoon-features:')) images.add(c.Config.Image);
  return c.Config.Image;
}

after(async () => {
  // Containers first (the sandbox removes them too, but an image in use cannot go).
  for (const c of await containersLabelled(box.label)) await api('DELETE', `/containers/${c.Id}?force=1`);
  for (const image of images) await api('DELETE', `/images/${image}?force=1`);
});

/** spoon's default image (it has sshd: sessions go through ssh), built if no test has built it yet. */
async function defaultImage(): Promise<string> {
  try {
    return await defaultImageTag();
  } catch {
    const r = await box.spoon(['build'], { cwd: box.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    return defaultImageTag();
  }
}

const ALPHA = {
  'alpha/devcontainer-feature.json': JSON.stringify({
    id: 'alpha',
    version: '1.0.0',
    // Installs after beta although it sorts first and is listed first.
    installsAfter: ['./beta'],
    options: { greeting: { type: 'string', default: 'hello' }, 'enable-thing': { type: 'boolean', default: false }, unset: { type: 'string', default: 'kept' } },
    containerEnv: { ALPHA_HOME: '/opt/alpha', PATH: '/opt/alpha/bin:${PATH}' },
  }),
  'alpha/install.sh': `#!/bin/sh
set -e
echo "alpha greeting=$GREETING enable=$ENABLE_THING unset=$UNSET beta_seen=$(cat /opt/beta-installed) remote=$_REMOTE_USER home=$_REMOTE_USER_HOME cuser=$_CONTAINER_USER" >> /opt/order.log
mkdir -p /opt/alpha/bin
printf '#!/bin/sh\\necho alpha-tool ran\\n' > /opt/alpha/bin/alpha-tool
chmod +x /opt/alpha/bin/alpha-tool
`,
  'beta/devcontainer-feature.json': JSON.stringify({ id: 'beta', version: '0.1.0' }),
  'beta/install.sh': '#!/bin/sh\necho beta >> /opt/order.log\necho v1 > /opt/beta-installed\n',
};

describe('local features', () => {
  let dir: string;
  const first = box.name('feat1');
  const second = box.name('feat2');
  const third = box.name('feat3');

  before(async () => {
    dir = project('local', {
      image: await defaultImage(),
      features: { './alpha': { greeting: `it's a "test" $HOME`, 'enable-thing': true }, './beta': {} },
    }, ALPHA);
  });

  test('installed in order with their options and containerEnv; sessions see the env', async () => {
    const r = await box.spoon(['up', first, '-N'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /installing features \.\/beta, \.\/alpha into spoon-features:[0-9a-f]{16}/);
    const image = await imageOf(first);
    assert.match(image, /^spoon-features:[0-9a-f]{16}$/);
    const labels = (await api<{ Config: { Labels: Record<string, string> } }>('GET', `/images/${image}/json`)).body?.Config.Labels;
    assert.equal(labels?.['dev.spoon.built'], 'features');

    const look = await box.spoon(['exec', first, '--', 'sh', '-c', 'cat /opt/order.log; echo "home=$ALPHA_HOME"; alpha-tool'], { cwd: dir });
    assert.equal(look.code, 0, look.stderr);
    assert.equal(
      look.stdout,
      // spoon's default image sets no USER: root, as with the devcontainers CLI.
      `beta\nalpha greeting=it's a "test" $HOME enable=true unset=kept beta_seen=v1 remote=root home=/root cuser=root\nhome=/opt/alpha\nalpha-tool ran\n`,
    );
  });

  test('a second env reuses the derived image; a changed install.sh builds a new one', async () => {
    const r = await box.spoon(['up', second, '-N'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /installing features/);
    assert.equal(await imageOf(second), await imageOf(first));

    write(join(dir, '.devcontainer', 'beta', 'install.sh'), '#!/bin/sh\necho beta >> /opt/order.log\necho v2 > /opt/beta-installed\n', 0o755);
    const r3 = await box.spoon(['up', third, '-N'], { cwd: dir });
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /installing features/);
    assert.notEqual(await imageOf(third), await imageOf(first));
    const look = await box.spoon(['exec', third, '--', 'cat', '/opt/beta-installed'], { cwd: dir });
    assert.equal(look.stdout, 'v2\n');
  });
});

/** A stand-in OCI registry: anonymous bearer tokens, one feature `acme/features/hello:1`. */
class Registry {
  readonly requests: string[] = [];
  private server: http.Server | undefined;
  private manifest = '';
  private blob = Buffer.alloc(0);
  digest = '';
  port = 0;

  async start(): Promise<void> {
    const p = pack();
    p.entry({ name: './devcontainer-feature.json', mode: 0o644 }, JSON.stringify({ id: 'hello', version: '1.0.0', options: { who: { type: 'string', default: 'world' } }, containerEnv: { HELLO_FROM: 'registry' } }));
    p.entry({ name: './install.sh', mode: 0o755 }, '#!/bin/sh\nset -e\necho "hello $WHO" > /opt/hello.txt\n');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    this.blob = Buffer.concat(chunks);
    this.digest = `sha256:${createHash('sha256').update(this.blob).digest('hex')}`;
    this.manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.devcontainers', digest: `sha256:${createHash('sha256').update('{}').digest('hex')}`, size: 2 },
      layers: [{ mediaType: 'application/vnd.devcontainers.layer.v1+tar', digest: this.digest, size: this.blob.length, annotations: { 'org.opencontainers.image.title': 'devcontainer-feature-hello.tgz' } }],
    });
    this.server = http.createServer((req, res) => {
      const url = req.url ?? '';
      this.requests.push(`${req.method} ${url}${req.headers.authorization ? ' (token)' : ''}`);
      if (url.startsWith('/token?')) {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ token: 'anon-token' }));
      }
      if (req.headers.authorization !== 'Bearer anon-token') {
        res.statusCode = 401;
        res.setHeader('www-authenticate', `Bearer realm="http://127.0.0.1:${this.port}/token",service="stand-in",scope="repository:acme/features/hello:pull"`);
        return res.end();
      }
      if (url === '/v2/acme/features/hello/manifests/1') {
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        return res.end(this.manifest);
      }
      if (url === `/v2/acme/features/hello/blobs/${this.digest}`) return res.end(this.blob);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('registry features', () => {
  const registry = new Registry();
  before(() => registry.start());
  after(() => registry.stop());

  test('a feature from an OCI registry (the stand-in on 127.0.0.1, plain http) is fetched and installed', async () => {
    const id = `127.0.0.1:${registry.port}/acme/features/hello:1`;
    const dir = project('registry', { image: 'debian:bookworm', features: { [id]: { who: 'spoon' } } });
    const n = box.name('reg');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    await imageOf(n);
    assert.deepEqual(registry.requests.slice(0, 4), [
      'GET /v2/acme/features/hello/manifests/1',
      'GET /token?service=stand-in&scope=repository%3Aacme%2Ffeatures%2Fhello%3Apull',
      'GET /v2/acme/features/hello/manifests/1 (token)',
      `GET /v2/acme/features/hello/blobs/${registry.digest} (token)`,
    ]);
    // debian:bookworm has no sshd: entered through the engine, whose exec has the image's env.
    const look = await box.spoon(['exec', n, '--', 'sh', '-c', 'cat /opt/hello.txt; echo "$HELLO_FROM"'], { cwd: dir });
    assert.equal(look.code, 0, look.stderr);
    assert.equal(look.stdout, 'hello spoon\nregistry\n');
  });

  test('a local feature that dependsOn a registry feature: the dependency is fetched with its options and installed first', async () => {
    const id = `127.0.0.1:${registry.port}/acme/features/hello:1`;
    const dir = project('depends', { image: 'debian:bookworm', features: { './app': {} } }, {
      'app/devcontainer-feature.json': JSON.stringify({ id: 'app', dependsOn: { [id]: { who: 'dependency' } } }),
      'app/install.sh': '#!/bin/sh\nset -e\necho "app after $(cat /opt/hello.txt)" > /opt/app.txt\n',
    });
    const n = box.name('dep');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`installing features 127\\.0\\.0\\.1:${registry.port}/acme/features/hello:1, \\./app into`));
    await imageOf(n);
    const look = await box.spoon(['exec', n, '--', 'cat', '/opt/app.txt'], { cwd: dir });
    assert.equal(look.stdout, 'app after hello dependency\n');
  });

  test('an unreachable registry: exit 1 naming the feature and the host, nothing created', async () => {
    const port = await freePort();
    const id = `127.0.0.1:${port}/acme/features/hello:1`;
    const dir = project('unreachable', { image: 'debian:bookworm', features: { [id]: {} } });
    const n = box.name('unreach');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^spoon: cannot fetch feature '127\\.0\\.0\\.1:${port}/acme/features/hello:1' from 127\\.0\\.0\\.1:${port}: ECONNREFUSED`, 'm'));
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
  });
});

test('an install.sh that fails: exit 1 naming the feature, with its output; nothing created', async () => {
  const dir = project('failing', { image: 'debian:bookworm', features: { './fails': {} } }, {
    'fails/devcontainer-feature.json': '{ "id": "fails" }',
    'fails/install.sh': '#!/bin/sh\necho "about to fail" >&2\nexit 3\n',
  });
  const n = box.name('fails');
  const r = await box.spoon(['up', n, '-N'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^spoon: feature '\.\/fails' failed to install \(install\.sh exited with status 3\); its last output:\n {2}about to fail\nhint: /m);
  assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
});

describe('bad feature folders: exit 2 naming the file, nothing created', () => {
  test('a feature folder without install.sh', async () => {
    const dir = project('noinstall', { image: 'debian:bookworm', features: { './broken': {} } }, { 'broken/devcontainer-feature.json': '{ "id": "broken" }' });
    const n = box.name('noinst');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const dc = join(dir, '.devcontainer', 'devcontainer.json');
    assert.equal(r.stderr.split('\n')[0], `spoon: ${dc}:4:5: features["./broken"]: ${join(dir, '.devcontainer', 'broken', 'install.sh')} does not exist (a feature needs devcontainer-feature.json and install.sh)`);
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
  });

  test('an option of an unknown type', async () => {
    const dir = project('badtype', { image: 'debian:bookworm', features: { './odd': {} } }, {
      'odd/devcontainer-feature.json': '{\n  "id": "odd",\n  "options": {\n    "level": { "type": "number", "default": 3 }\n  }\n}\n',
      'odd/install.sh': '#!/bin/sh\n',
    });
    const n = box.name('badtype');
    const r = await box.spoon(['up', n, '-N'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.split('\n')[0], `spoon: ${join(dir, '.devcontainer', 'odd', 'devcontainer-feature.json')}:4:24: options.level.type: unknown option type 'number' (expected "string" or "boolean")`);
    assert.equal((await containersLabelled(`dev.spoon.name=${n}`)).length, 0);
  });
});
