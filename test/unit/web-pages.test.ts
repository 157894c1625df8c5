import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWindowSize } from '../../src/pairing/viewer.js';
import { dashboardPage, livePage, type DashboardEnv } from '../../src/web/pages.js';

describe('parseWindowSize (a viewer is the window plus its status lines)', () => {
  test('status on, off, or several lines', () => {
    assert.deepEqual(parseWindowSize('80 24 on\n'), { cols: 80, rows: 25 });
    assert.deepEqual(parseWindowSize('120 40 off'), { cols: 120, rows: 40 });
    assert.deepEqual(parseWindowSize('100 30 2'), { cols: 100, rows: 32 });
  });

  test('anything else is no size', () => {
    assert.equal(parseWindowSize('  on'), undefined);
    assert.equal(parseWindowSize(''), undefined);
    assert.equal(parseWindowSize('0 24 on'), undefined);
  });
});

const env = (over: Partial<DashboardEnv>): DashboardEnv => ({
  name: 'demo',
  state: 'running',
  image: 'spoon-default:1',
  node: null,
  ports: [],
  ssh: '127.0.0.1:32768',
  attached: [],
  idleSeconds: null,
  idleStop: null,
  watchable: true,
  ...over,
});

describe('the pages', () => {
  test('what people and images are called is escaped, never markup', () => {
    const html = dashboardPage([env({ image: 'x"><script>alert(1)</script>', attached: [{ person: '<img src=x onerror=alert(1)>', role: 'member', readOnly: false }] })]);
    assert.doesNotMatch(html, /<script>alert|<img src=x/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  test('a running env links to its live view, relative to the token; a stopped one does not', () => {
    const html = dashboardPage([env({}), env({ name: 'off', state: 'exited', watchable: false })]);
    assert.match(html, /<a href="env\/demo">watch<\/a>/);
    assert.doesNotMatch(html, /href="env\/off"/);
  });

  test('the live view loads only relative URLs (no CDN) and its socket is relative too', () => {
    const html = livePage('demo', '../');
    assert.doesNotMatch(html, /https?:\/\//);
    assert.match(html, /src="\.\.\/assets\/xterm\.js"/);
    assert.match(html, /data-ws="\.\.\/ws\/demo"/);
  });
});
