import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatPort, formatSize } from '../../src/cli/output.js';

describe('formatAge', () => {
  const iso = '2024-01-01T00:00:00Z';
  const t0 = Date.parse(iso);
  const cases: [number, string][] = [
    [0, '0s ago'],
    [499, '0s ago'],
    [1000, '1s ago'],
    [59_000, '59s ago'],
    [59_499, '59s ago'],
    [60_000, '1m ago'],
    [119_000, '1m ago'],
    [3_599_000, '59m ago'],
    [3_600_000, '1h ago'],
    [86_399_000, '23h ago'],
    [86_400_000, '1d ago'],
    [30 * 86_400_000, '30d ago'],
    [-5000, '0s ago'],
  ];
  for (const [ms, expected] of cases) {
    test(`${ms} ms → ${expected}`, () => {
      assert.equal(formatAge(iso, t0 + ms), expected);
    });
  }
  test('an unparsable date → -', () => {
    assert.equal(formatAge('not a date', t0), '-');
    assert.equal(formatAge('', t0), '-');
  });
});

describe('formatSize', () => {
  const cases: [number, string][] = [
    [0, '0 kB'],
    [499, '0 kB'],
    [1000, '1 kB'],
    [1499, '1 kB'],
    [1500, '2 kB'],
    [123_456, '123 kB'],
    [1_000_000, '1 MB'],
    [1_400_000, '1 MB'],
    [123_456_789, '123 MB'],
    [999_000_000, '999 MB'],
    [1_000_000_000, '1.0 GB'],
    [2_500_000_000, '2.5 GB'],
    [12_340_000_000, '12.3 GB'],
  ];
  for (const [bytes, expected] of cases) {
    test(`${bytes} → ${expected}`, () => {
      assert.equal(formatSize(bytes), expected);
    });
  }
});

describe('formatPort', () => {
  test('published', () => {
    assert.equal(formatPort({ container: 22, protocol: 'tcp', host: 32768, hostIp: '127.0.0.1' }), '22/tcp -> 127.0.0.1:32768');
  });
  test('not published', () => {
    assert.equal(formatPort({ container: 3000, protocol: 'udp', host: null, hostIp: null }), '3000/udp -> :-');
  });
});
