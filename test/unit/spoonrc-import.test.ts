import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { IMPORT_HEADER, SPOONRC_KEYS, importSpoonrc } from '../../src/config/spoonrc-import.js';
import { resolveOptions, type Layer } from '../../src/config/layers.js';
import { isKeyName } from '../../src/config/schema.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'spoon-import-')));
  temps.push(dir);
  return dir;
}

/** The TOML lines after the header. */
function body(rc: string): string[] {
  const { toml } = importSpoonrc(rc);
  const lines = toml.split('\n');
  assert.equal(lines[0], IMPORT_HEADER);
  assert.equal(lines.at(-1), '', 'ends with a newline');
  return lines.slice(1, -1);
}

const SAMPLE = String.raw`# ~/.spoonrc for the pairing box
options[:url] = "tcp://docker.example.com:4243"
options[:image] = 'spoon-pairing'
options[:builddir] = "docker"   # where the Dockerfile lives

options["pre-build-commands"] = [
  "cp -rp #{ENV['HOME']}/.chef #{options[:builddir]}/chef",
  'echo built'  # trailing comment
]
options[:ports] = [ "1234", "1234:4321", 8080 ]
options[:portforwards] = [ "3000", "8081:80" ]
options[:privileged] = true
options[:cpu] = 512
options[:memory] = "512m"
options[:dns] = [ "8.8.8.8", "1.1.1.1" ]
options[:volume] = [ '/vol1', "#{ENV["HOME"]}/src:/src" ]
options[:copy_on_create] = [
  ".gitconfig",
  ".ssh/config",
]
options[:add_authorized_keys] = "id_rsa.pub"
options[:run_on_create] = [ "sudo apt-get install -y vim", "echo \"ready\" > ~/ready" ]
options[:debug] = true
options[:prefix] = "pair-"
options[:command] = "tmux attach -t #{ENV['USER']}"
puts "loaded spoonrc"
options[:image] = "spoon-pairing:v2"
`;

const SAMPLE_TOML = `${IMPORT_HEADER}
image = "spoon-pairing:v2"
builddir = "docker"
prebuild = ["cp -rp ~/.chef docker/chef", "echo built"]
ports = ["1234", "1234:4321", 8080]
forwards = ["3000", "8081:80"]
privileged = true
cpu_shares = 512
memory = "512m"
dns = ["8.8.8.8", "1.1.1.1"]
volumes = ["/vol1", "~/src:/src"]
copy = [".gitconfig", ".ssh/config"]
authorized_keys = ["id_rsa.pub"]
run_on_create = ["sudo apt-get install -y vim", "echo \\"ready\\" > ~/ready"]
prefix = "pair-"
`;

describe('importSpoonrc: a realistic .spoonrc', () => {
  test('converts to the exact TOML', () => {
    const { toml } = importSpoonrc(SAMPLE);
    assert.equal(toml, SAMPLE_TOML);
  });

  test('reports what it left out, with the line and why; comments and blank lines are not reported', () => {
    assert.deepEqual(importSpoonrc(SAMPLE).skipped, [
      { line: 2, text: 'options[:url] = "tcp://docker.example.com:4243"', why: 'use DOCKER_HOST or --engine for the engine URL' },
      { line: 23, text: 'options[:debug] = true', why: "docker-spoon option 'debug' has no spoon config key" },
      { line: 25, text: `options[:command] = "tmux attach -t #{ENV['USER']}"`, why: "Ruby interpolation '#{ENV['USER']}' cannot be converted" },
      { line: 26, text: 'puts "loaded spoonrc"', why: "not an 'options[:key] = value' line" },
    ]);
  });

  test('the output is valid spoon config', () => {
    const home = tmp();
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'id_rsa.pub'), 'ssh-ed25519 AAAA me@host\n');
    writeFileSync(join(home, '.ssh', 'config'), '');
    writeFileSync(join(home, '.gitconfig'), '');
    mkdirSync(join(home, 'src'));
    const folder = join(home, '.config', 'spoon');
    const path = join(folder, 'config.toml');

    const values = parse(importSpoonrc(SAMPLE).toml) as Record<string, unknown>;
    for (const key of Object.keys(values)) assert.ok(isKeyName(key), key);
    const layer: Layer = { kind: 'config file', origin: path, baseDir: folder, where: (k) => `${path}: ${k}`, values };
    const { options, sources } = resolveOptions([layer], home);

    assert.equal(options.image, 'spoon-pairing:v2');
    assert.equal(options.builddir, join(folder, 'docker'));
    assert.deepEqual(options.prebuild, ['cp -rp ~/.chef docker/chef', 'echo built']);
    assert.deepEqual(options.ports, [
      { host: undefined, container: 1234, protocol: 'tcp' },
      { host: 1234, container: 4321, protocol: 'tcp' },
      { host: undefined, container: 8080, protocol: 'tcp' },
    ]);
    assert.deepEqual(options.forwards, [
      { localPort: 3000, remotePort: 3000, bindAddress: '127.0.0.1' },
      { localPort: 8081, remotePort: 80, bindAddress: '127.0.0.1' },
    ]);
    assert.equal(options.privileged, true);
    assert.equal(options.cpu_shares, 512);
    assert.equal(options.memory, 512 * 1024 ** 2);
    assert.deepEqual(options.dns, ['8.8.8.8', '1.1.1.1']);
    assert.deepEqual(options.volumes, [
      { type: 'volume', source: '', target: '/vol1', readOnly: false },
      { type: 'bind', source: join(home, 'src'), target: '/src', readOnly: false },
    ]);
    assert.deepEqual(options.copy, [
      { from: join(home, '.gitconfig'), to: '~/.gitconfig', mode: undefined },
      { from: join(home, '.ssh', 'config'), to: '~/.ssh/config', mode: undefined },
    ]);
    assert.deepEqual(options.authorized_keys, [join(home, '.ssh', 'id_rsa.pub')]);
    assert.deepEqual(options.run_on_create, ['sudo apt-get install -y vim', 'echo "ready" > ~/ready']);
    assert.equal(options.prefix, 'pair-');
    assert.equal(sources.prefix.kind, 'config file');
    assert.equal(options.command, undefined);
  });
});

describe('importSpoonrc: values', () => {
  test('every docker-spoon option in the mapping is a spoon key', () => {
    for (const key of Object.values(SPOONRC_KEYS)) assert.ok(isKeyName(key), key);
  });

  test('an empty file is just the header', () => {
    assert.deepEqual(importSpoonrc(''), { toml: `${IMPORT_HEADER}\n`, skipped: [] });
    assert.deepEqual(importSpoonrc('# nothing\n\n   \n  # here\n'), { toml: `${IMPORT_HEADER}\n`, skipped: [] });
  });

  test('the last assignment of a key wins', () => {
    assert.deepEqual(body("options[:image] = 'a'\noptions[:prefix] = 'p-'\noptions[:image] = 'b'\n"), ['image = "b"', 'prefix = "p-"']);
  });

  test('nil unsets; add_authorized_keys = false (docker-spoon\'s default) and command = "" too', () => {
    assert.deepEqual(body("options[:image] = 'a'\noptions[:image] = nil\noptions[:add_authorized_keys] = false\noptions[:command] = ''\n"), []);
  });

  test('symbol and string option names, and _ or - in them, are the same option', () => {
    assert.deepEqual(body(`options[:"pre-build-commands"] = ['a']\noptions['copy-on-create'] = ['.x']\noptions[:pre_build_commands] = ['b']\n`), ['prebuild = ["b"]', 'copy = [".x"]']);
  });

  test('one value for a list key is a one-element list; portforwards given as a string is split on spaces (as docker-spoon did)', () => {
    assert.deepEqual(body('options[:add_authorized_keys] = "id_ed25519.pub"\noptions[:ports] = 3000\noptions[:portforwards] = "3000 8080:80"\n'), [
      'authorized_keys = ["id_ed25519.pub"]',
      'ports = [3000]',
      'forwards = ["3000", "8080:80"]',
    ]);
  });

  test('integers, underscores and negative numbers; the cpu share value is passed on for spoon to check', () => {
    assert.deepEqual(body('options[:cpu] = 1_024\noptions[:memory] = 536_870_912\n'), ['cpu_shares = 1024', 'memory = 536870912']);
  });

  test('%w word lists', () => {
    assert.deepEqual(body('options[:dns] = %w[8.8.8.8 1.1.1.1]\noptions[:copy_on_create] = %w(.a .b)\n'), ['dns = ["8.8.8.8", "1.1.1.1"]', 'copy = [".a", ".b"]']);
  });

  test('Ruby string escapes become TOML escapes', () => {
    const lines = body(String.raw`options[:run_on_create] = [ "tab\there", 'it\'s \n raw', "q\"uote \\ back", "bell\a", "\u00e9\u{1F944}", "a\#{b}" ]
`);
    assert.deepEqual(lines, [String.raw`run_on_create = ["tab\there", "it's \\n raw", "q\"uote \\ back", "bell\u0007", "é🥄", "a#{b}"]`]);
    const parsed = parse(`${lines[0]}\n`) as { run_on_create: string[] };
    assert.deepEqual(parsed.run_on_create, ['tab\there', "it's \\n raw", 'q"uote \\ back', 'bell\x07', 'é🥄', 'a#{b}']);
  });

  test('single-quoted strings do not interpolate', () => {
    assert.deepEqual(body("options[:run_on_create] = ['echo #{ENV[\"HOME\"]}']\n"), ['run_on_create = ["echo #{ENV[\\"HOME\\"]}"]']);
  });

  test('trailing comments and semicolons', () => {
    assert.deepEqual(body("options[:image] = 'a' ; # the image\noptions[:privileged] = false # no\n"), ['image = "a"', 'privileged = false']);
  });
});

describe('importSpoonrc: interpolation', () => {
  test("#{ENV['HOME']} at the start of a path is ~", () => {
    assert.deepEqual(body(`options[:builddir] = "#{ENV['HOME']}/docker"\noptions[:run_on_create] = ["ls #{ENV["HOME"]} #{ENV['HOME']}/x"]\n`), [
      'builddir = "~/docker"',
      'run_on_create = ["ls ~ ~/x"]',
    ]);
  });

  test("#{ENV['HOME']} elsewhere is left out", () => {
    const { toml, skipped } = importSpoonrc(`options[:run_on_create] = ["cat \\"#{ENV['HOME']}/x\\""]\n`);
    assert.equal(toml, `${IMPORT_HEADER}\n`);
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!.why, /^Ruby interpolation '#\{ENV\['HOME'\]\}' cannot be converted/);
  });

  test('#{options[:builddir]} is the builddir set earlier in the file', () => {
    assert.deepEqual(body(`options[:builddir] = 'img'\noptions["pre-build-commands"] = ["make -C #{options[:builddir]}"]\n`), [
      'builddir = "img"',
      'prebuild = ["make -C img"]',
    ]);
  });

  test('#{options[:builddir]} with no builddir set earlier is left out', () => {
    const { toml, skipped } = importSpoonrc(`options["pre-build-commands"] = ["make -C #{options[:builddir]}"]\noptions[:builddir] = 'img'\n`);
    assert.equal(toml, `${IMPORT_HEADER}\nbuilddir = "img"\n`);
    assert.deepEqual(
      skipped.map((s) => [s.line, s.why.split(' (')[0]]),
      [[1, "Ruby interpolation '#{options[:builddir]}' cannot be converted"]],
    );
  });

  test('any other interpolation is left out, the whole multi-line statement at once', () => {
    const rc = `options[:image] = 'a'\noptions[:run_on_create] = [\n  "echo hi",\n  "echo #{Time.now}",\n]\noptions[:prefix] = 'p-'\n`;
    const { toml, skipped } = importSpoonrc(rc);
    assert.equal(toml, `${IMPORT_HEADER}\nimage = "a"\nprefix = "p-"\n`);
    assert.deepEqual(skipped, [{ line: 2, text: 'options[:run_on_create] = [ "echo hi", "echo #{Time.now}", ]', why: "Ruby interpolation '#{Time.now}' cannot be converted" }]);
  });
});

describe('importSpoonrc: what is left out', () => {
  const cases: [string, RegExp][] = [
    ["options[:url] = 'unix:///var/run/docker.sock'", /^use DOCKER_HOST or --engine for the engine URL$/],
    ['options[:nologin] = true', /^docker-spoon option 'nologin' has no spoon config key$/],
    ["options[:image] ||= 'a'", /plain 'options\[:key\] = value'/],
    ["require 'socket'", /^not an 'options\[:key\] = value' line$/],
    ['options[:image] = :pairing', /the Ruby value ':pairing' cannot be converted/],
    ["options[:image] = ENV['IMAGE']", /the Ruby value 'ENV\['IMAGE'\]' cannot be converted/],
    ["options[:image] = ['a', 'b']", /takes one value, not a list/],
    ["options[:image] = 'a' + 'b'", /unexpected Ruby code after the value/],
    ['options[:ports] = [[1, 2]]', /nested lists/],
    ['options[:ports] = [ "1"', /closing/],
    ['options[:image] = "a', /closing quote/],
  ];
  for (const [line, why] of cases) {
    test(line, () => {
      const { toml, skipped } = importSpoonrc(`# first\n${line}\n`);
      assert.equal(toml, `${IMPORT_HEADER}\n`);
      assert.equal(skipped.length, 1, JSON.stringify(skipped));
      assert.equal(skipped[0]!.line, 2);
      assert.equal(skipped[0]!.text, line);
      assert.match(skipped[0]!.why, why);
    });
  }

  test('a skipped multi-line statement is one entry, and the lines after it are still read', () => {
    const rc = "foo = {\n  a: 1,\n}\noptions[:prefix] = 'p-'\n";
    const { toml, skipped } = importSpoonrc(rc);
    assert.equal(toml, `${IMPORT_HEADER}\nprefix = "p-"\n`);
    assert.deepEqual(skipped, [{ line: 1, text: 'foo = { a: 1, }', why: "not an 'options[:key] = value' line" }]);
  });

  test('assignments inside Ruby blocks are left out with the block', () => {
    const rc = [
      "options[:image] = 'base'",
      "if ENV['CI']",
      "  options[:image] = 'ci'",
      '  [1, 2].each do |n|',
      "    options[:prefix] = 'ci-'",
      '  end',
      'else',
      "  options[:image] = 'dev'",
      'end',
      "options[:image] = 'a' if ENV['X']",
      "options[:prefix] = 'p-'",
      '',
    ].join('\n');
    const { toml, skipped } = importSpoonrc(rc);
    assert.equal(toml, `${IMPORT_HEADER}\nimage = "base"\nprefix = "p-"\n`);
    assert.deepEqual(
      skipped.map((s) => [s.line, s.why]),
      [
        [2, 'Ruby control flow cannot be converted'],
        [3, 'inside a Ruby block, which may not run'],
        [4, 'Ruby control flow cannot be converted'],
        [5, 'inside a Ruby block, which may not run'],
        [6, 'Ruby control flow cannot be converted'],
        [7, 'Ruby control flow cannot be converted'],
        [8, 'inside a Ruby block, which may not run'],
        [9, 'Ruby control flow cannot be converted'],
        [10, "unexpected Ruby code after the value: 'if ENV['X']'"],
      ],
    );
  });
});
