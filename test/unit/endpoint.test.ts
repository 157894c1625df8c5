import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ENGINE_URL, insecureEngineWarning, parseEngineUrl, publishedPortHost, resolveEndpoint, sshEngineArgv, type EngineEndpoint, type EndpointEnv } from '../../src/engine/endpoint.js';
import { UsageError } from '../../src/errors.js';

function assertUsageError(fn: () => unknown, parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(p)}`);
    return true;
  });
}

describe('resolveEndpoint', () => {
  const cases: [string, string | undefined, EndpointEnv, EngineEndpoint][] = [
    ['default unix socket', undefined, {}, { kind: 'unix', url: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' }],
    ['empty DOCKER_HOST means the default', undefined, { DOCKER_HOST: '' }, { kind: 'unix', url: DEFAULT_ENGINE_URL, socketPath: '/var/run/docker.sock' }],
    ['DOCKER_HOST when no flag', undefined, { DOCKER_HOST: 'unix:///tmp/d.sock' }, { kind: 'unix', url: 'unix:///tmp/d.sock', socketPath: '/tmp/d.sock' }],
    [
      'flag wins over DOCKER_HOST',
      'unix:///run/flag.sock',
      { DOCKER_HOST: 'tcp://10.0.0.1:2375' },
      { kind: 'unix', url: 'unix:///run/flag.sock', socketPath: '/run/flag.sock' },
    ],
    ['bare absolute path', '/run/x.sock', {}, { kind: 'unix', url: 'unix:///run/x.sock', socketPath: '/run/x.sock' }],
    ['tcp with port', 'tcp://127.0.0.1:2375', {}, { kind: 'tcp', url: 'tcp://127.0.0.1:2375', host: '127.0.0.1', port: 2375, tls: undefined }],
    ['tcp default port 2375', 'tcp://docker.example', {}, { kind: 'tcp', url: 'tcp://docker.example', host: 'docker.example', port: 2375, tls: undefined }],
    ['tcp trailing slash', 'tcp://h:1234/', {}, { kind: 'tcp', url: 'tcp://h:1234/', host: 'h', port: 1234, tls: undefined }],
    ['tcp ipv6', 'tcp://[::1]:2375', {}, { kind: 'tcp', url: 'tcp://[::1]:2375', host: '::1', port: 2375, tls: undefined }],
    [
      'DOCKER_HOST tcp with DOCKER_TLS_VERIFY=1',
      undefined,
      { DOCKER_HOST: 'tcp://remote', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs', HOME: '/home/u' },
      { kind: 'tcp', url: 'tcp://remote', host: 'remote', port: 2376, tls: { certPath: '/certs' } },
    ],
    [
      'TLS verify without DOCKER_CERT_PATH uses ~/.docker',
      'tcp://remote',
      { DOCKER_TLS_VERIFY: '1', HOME: '/home/u' },
      { kind: 'tcp', url: 'tcp://remote', host: 'remote', port: 2376, tls: { certPath: '/home/u/.docker' } },
    ],
    [
      'explicit port is kept with TLS',
      'tcp://remote:9999',
      { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' },
      { kind: 'tcp', url: 'tcp://remote:9999', host: 'remote', port: 9999, tls: { certPath: '/c' } },
    ],
    [
      'DOCKER_TLS_VERIFY=0 is on, as with the docker CLI (any non-empty value)',
      'tcp://remote',
      { DOCKER_TLS_VERIFY: '0', HOME: '/h' },
      { kind: 'tcp', url: 'tcp://remote', host: 'remote', port: 2376, tls: { certPath: '/h/.docker' } },
    ],
    [
      'DOCKER_CERT_PATH alone turns TLS on (and the certificate is checked: TlsSettings)',
      'tcp://remote',
      { DOCKER_CERT_PATH: '/c' },
      { kind: 'tcp', url: 'tcp://remote', host: 'remote', port: 2376, tls: { certPath: '/c' } },
    ],
    ['ssh host', 'ssh://build.example', {}, { kind: 'ssh', url: 'ssh://build.example', host: 'build.example', user: undefined, port: undefined }],
    ['ssh user, host and port from DOCKER_HOST', undefined, { DOCKER_HOST: 'ssh://me@10.0.0.5:2222' }, { kind: 'ssh', url: 'ssh://me@10.0.0.5:2222', host: '10.0.0.5', user: 'me', port: 2222 }],
    ['https implies TLS', 'https://remote', { HOME: '/h' }, { kind: 'tcp', url: 'https://remote', host: 'remote', port: 2376, tls: { certPath: '/h/.docker' } }],
  ];
  for (const [what, flag, env, expected] of cases) {
    test(what, () => {
      assert.deepEqual(resolveEndpoint(flag, env), expected);
    });
  }

  const bad: [string, string | undefined, EndpointEnv, string[]][] = [
    ['relative unix path from DOCKER_HOST', undefined, { DOCKER_HOST: 'unix://relative' }, ['unix://relative', 'DOCKER_HOST', 'absolute']],
    ['relative unix path from the flag', 'unix://rel/x.sock', {}, ['unix://rel/x.sock', '--engine']],
    ['ftp scheme', 'ftp://x', {}, ['ftp://x', '--engine', 'unknown scheme']],
    ['ftp scheme from DOCKER_HOST', undefined, { DOCKER_HOST: 'ftp://x' }, ['ftp://x', 'DOCKER_HOST']],
    ['no scheme', 'localhost:2375', {}, ['localhost:2375']],
    ['tcp with a path', 'tcp://h:2375/v1.40', {}, ['tcp://h:2375/v1.40', 'path']],
    ['tcp with a bad port', 'tcp://h:99999', {}, ['tcp://h:99999']],
    ['ssh with a path', 'ssh://host/var/run/docker.sock', {}, ['ssh://host/var/run/docker.sock', '--engine', 'no path']],
    ['ssh with a path from DOCKER_HOST', undefined, { DOCKER_HOST: 'ssh://me@host/x' }, ['ssh://me@host/x', 'DOCKER_HOST']],
    // ssh would read these as options: -oProxyCommand=... runs a command.
    ['an ssh host that is an ssh option', 'ssh://-oProxyCommand=touch${IFS}x', {}, ['--engine', "the host '-oProxyCommand=touch${IFS}x' starts with '-'"]],
    ['an ssh host that is an ssh option, with a port', 'ssh://-oProxyCommand=x:22', {}, ["the host '-oProxyCommand=x' starts with '-'"]],
    ['an ssh host that is an ssh option, from DOCKER_HOST', undefined, { DOCKER_HOST: 'ssh://me@-F' }, ['DOCKER_HOST', "the host '-F' starts with '-'"]],
    ['an ssh user that is an ssh option', 'ssh://-oProxyCommand=sh@host', {}, ['--engine', "the user '-oProxyCommand=sh' starts with '-'"]],
    ['an ssh user that is an ssh option once percent-decoded', 'ssh://%2DoProxyCommand%3Dsh@host', {}, ["the user '-oProxyCommand=sh' starts with '-'"]],
    ['an ssh user that is broken percent-encoding', 'ssh://%E0%A4%A@host', {}, ['not valid percent-encoding']],
  ];
  for (const [what, flag, env, parts] of bad) {
    test(`rejects ${what}`, () => {
      assertUsageError(() => resolveEndpoint(flag, env), parts);
    });
  }

  test('parseEngineUrl names the given source', () => {
    assertUsageError(() => parseEngineUrl('unix://x', 'config file', {}), ["'unix://x'", 'config file']);
  });
});

describe('sshEngineArgv', () => {
  const e = resolveEndpoint('ssh://me@h:2222', {});
  assert.ok(e.kind === 'ssh');
  test('ends the options with -- before the host, so nothing from the URL is read as an option', () => {
    assert.deepEqual(sshEngineArgv(e), ['-o', 'BatchMode=yes', '-p', '2222', '-l', 'me', '--', 'h']);
  });
  test('puts extra options before -- and the remote command after the host', () => {
    assert.deepEqual(sshEngineArgv(e, { options: ['-W', '10.0.0.2:32768'] }), ['-o', 'BatchMode=yes', '-p', '2222', '-l', 'me', '-W', '10.0.0.2:32768', '--', 'h']);
    assert.deepEqual(sshEngineArgv(e, { command: ['docker', 'system', 'dial-stdio'] }), ['-o', 'BatchMode=yes', '-p', '2222', '-l', 'me', '--', 'h', 'docker', 'system', 'dial-stdio']);
  });
});

describe('publishedPortHost', () => {
  const unix: EngineEndpoint = { kind: 'unix', url: DEFAULT_ENGINE_URL, socketPath: '/var/run/docker.sock' };
  const tcp = (host: string): EngineEndpoint => ({ kind: 'tcp', url: `tcp://${host}:2375`, host, port: 2375, tls: undefined });
  const cases: [string, EngineEndpoint, string, string][] = [
    ['tcp remote host', tcp('10.1.2.3'), '127.0.0.1', '10.1.2.3'],
    ['tcp remote host name', tcp('docker.example'), '0.0.0.0', 'docker.example'],
    ['tcp loopback, listen 0.0.0.0', tcp('127.0.0.1'), '0.0.0.0', '127.0.0.1'],
    ['tcp localhost, listen 127.0.0.1', tcp('localhost'), '127.0.0.1', '127.0.0.1'],
    ['unix, listen 0.0.0.0', unix, '0.0.0.0', '127.0.0.1'],
    ['unix, listen ::', unix, '::', '127.0.0.1'],
    ['unix, listen 127.0.0.1', unix, '127.0.0.1', '127.0.0.1'],
    ['unix, listen a specific address', unix, '192.168.1.5', '192.168.1.5'],
  ];
  for (const [what, endpoint, listen, expected] of cases) {
    test(what, () => {
      assert.equal(publishedPortHost(endpoint, listen), expected);
    });
  }
});

describe('insecureEngineWarning', () => {
  const cases: [string, string, EndpointEnv, boolean][] = [
    ['plain tcp to another machine', 'tcp://10.1.2.3:2375', {}, true],
    ['plain tcp to a host name', 'tcp://docker.example', {}, true],
    ['plain http:// to another machine', 'http://10.1.2.3:2375', {}, true],
    ['plain tcp to 127.0.0.1', 'tcp://127.0.0.1:2375', {}, false],
    ['plain tcp to 127.0.0.2', 'tcp://127.0.0.2:2375', {}, false],
    ['plain tcp to localhost', 'tcp://localhost:2375', {}, false],
    ['plain tcp to ::1', 'tcp://[::1]:2375', {}, false],
    ['TLS to another machine', 'tcp://10.1.2.3:2376', { DOCKER_CERT_PATH: '/c' }, false],
    ['https:// to another machine', 'https://10.1.2.3:2376', { HOME: '/h' }, false],
    ['the local socket', 'unix:///var/run/docker.sock', {}, false],
    ['an ssh engine', 'ssh://me@10.1.2.3', {}, false],
  ];
  for (const [what, url, env, warns] of cases) {
    test(`${what}: ${warns ? 'warns' : 'no warning'}`, () => {
      const w = insecureEngineWarning(resolveEndpoint(url, env));
      assert.equal(w !== undefined, warns, JSON.stringify(w));
      if (w) {
        assert.ok(w.message.includes(url) && w.message.includes('plain tcp'), w.message);
        assert.match(w.hint, /TLS|ssh:\/\//);
      }
    });
  }
});
