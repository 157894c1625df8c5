/**
 * Watching in a browser: `spoon share NAME --web` and `spoon ui` serve a read-only live
 * view, checked in a real browser (Debian's chromium, scripts/setup-browser.sh, driven by
 * playwright-core). What the owner types shows in every page; what a page types never
 * reaches the session (its pane and its files say so); a wrong or missing token gets 403
 * on every route and on the WebSocket; `who` lists the browsers as web viewers; unshare,
 * --for and Ctrl-C end every page's stream. One env serves every case, in order.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { useSandbox, waitFor } from './harness.js';
import { CHROMIUM, get, pageState as state, pageText, serve as serveIn, shows, upgradeStatus, type Served } from './browser.js';

const box = useSandbox();
const name = box.name('web');
let browser: Browser;

const serve = (args: string[]) => serveIn(box, args);

/** The owner types into the shared session (send-keys on the env's tmux server). */
async function ownerTypes(text: string): Promise<void> {
  const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'send-keys', '-t', '=pair:', text, 'Enter']);
  assert.equal(r.code, 0, r.stderr);
}

async function pane(): Promise<string> {
  const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'capture-pane', '-p', '-t', '=pair:']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function openPage(url: string): Promise<Page> {
  // Each page in its own context: separate browsers, as far as the server can tell.
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await waitFor(`the live view at ${url} to connect`, async () => ((await state(page)) === 'live' ? true : undefined));
  return page;
}

interface WhoClient {
  person: string;
  role: string;
  readOnly: boolean;
}

async function viewers(): Promise<WhoClient[]> {
  const r = await box.spoon(['who', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as WhoClient[]).filter((c) => c.role === 'viewer');
}

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  await box.up(name);
});

after(async () => {
  await browser?.close();
});

describe('bad input', () => {
  test('flags that do not go with --web, a bad --port, and the guest name web: usage errors (exit 2) naming them', async () => {
    for (const [args, said] of [
      [['share', name, '--web', '--key', 'x.pub'], /--key: not with --web/],
      [['share', name, '--web', '--read-write'], /--read-write: not with --web/],
      [['share', name, '--web', '--port', 'http'], /--port: invalid port 'http'/],
      [['share', name, '--web', '--port', '70000'], /--port: invalid port '70000'/],
      [['share', name, '--port', '8080'], /--port: only with --web/],
      [['share', name, '--web', '--for', 'soon'], /--for: invalid duration 'soon'/],
      [['ui', '--port', '-1'], /--port/],
      [['share', name, '--key', 'x.pub', '--as', 'web'], /guest name 'web' is taken/],
    ] as const) {
      const r = await box.spoon([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, said);
    }
  });
});

describe('spoon share NAME --web', () => {
  let served: Served;
  let first: Page;
  let second: Page;

  before(async () => {
    served = await serve(['share', name, '--web', '--json']);
  });

  after(() => {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
  });

  test('what the owner types appears in the page, and a second browser sees the same', async () => {
    first = await openPage(served.url);
    await ownerTypes('echo owner-says-$((6*7))');
    await waitFor('the first page to show the output', shows(first, 'owner-says-42'));
    // tmux's switch to the alternate screen is not followed: the page keeps a scrollback.
    assert.equal(await first.evaluate('window.spoonTerm.buffer.active.type'), 'normal');
    second = await openPage(served.url);
    // A browser that comes later gets tmux's full redraw: the same screen.
    await waitFor('the second page to show the output', shows(second, 'owner-says-42'));
    await ownerTypes('echo again-$((7*8))');
    await waitFor('the first page to show more', shows(first, 'again-56'));
    await waitFor('the second page to show more', shows(second, 'again-56'));
  });

  test("the page has the session's size, and follows it when it changes", async () => {
    const size = (page: Page) => page.evaluate('`${window.spoonTerm.cols}x${window.spoonTerm.rows}`') as Promise<string>;
    // 80x24 and tmux's status line: the default size of a session nobody is attached to.
    assert.equal(await size(first), '80x25');
    const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'resize-window', '-t', '=pair:', '-x', '100', '-y', '30']);
    assert.equal(r.code, 0, r.stderr);
    for (const page of [first, second]) await waitFor('the page to take the new size', async () => ((await size(page)) === '100x31' ? true : undefined));
    await ownerTypes('echo resized-$((4*4))');
    await waitFor('the page to show output after the resize', shows(first, 'resized-16'));
  });

  test('keys pressed in the page, and messages sent on its socket, never reach the session', async () => {
    await first.click('#term');
    await first.keyboard.type('touch /tmp/typed-in-page; echo page-$((2*3))x\n');
    await first.keyboard.press('Control+C');
    // Straight to the server too, as a page that wanted to could: dropped unread.
    const raw = new WebSocket(`${served.url.replace(/^http/, 'ws')}ws/${name}`);
    await new Promise<void>((resolve, reject) => raw.on('open', () => resolve()).on('error', reject));
    raw.send('touch /tmp/sent-on-socket\r');
    raw.send(Buffer.from('touch /tmp/sent-on-socket\r'));
    // Whatever reached the session would be in it before this line is.
    await ownerTypes('echo after-$((3*3))-page');
    await waitFor('the owner line to show in the page', shows(first, 'after-9-page'));
    raw.close();
    const text = await pane();
    assert.match(text, /after-9-page/);
    assert.doesNotMatch(text, /typed-in-page|page-6x|sent-on-socket/);
    assert.doesNotMatch(await pageText(first), /typed-in-page|page-6x/);
    const files = await box.spoon(['exec', name, '--', 'sh', '-c', 'ls /tmp/typed-in-page /tmp/sent-on-socket 2>&1; true']);
    assert.match(files.stdout, /typed-in-page'?: No such file/);
    assert.match(files.stdout, /sent-on-socket'?: No such file/);
  });

  test('a wrong or missing token gets 403 and no data, also for the WebSocket and the assets', async () => {
    const origin = new URL(served.url).origin;
    const wrong = `${origin}/${'x'.repeat(32)}/`;
    for (const url of [`${origin}/`, wrong, `${wrong}assets/xterm.js`, `${origin}/assets/xterm.js`, `${wrong}env/${name}`, `${served.url.slice(0, -2)}/`]) {
      const r = await get(url);
      assert.equal(r.status, 403, url);
      assert.ok(r.body.length < 20, `${url} sent ${r.body.length} bytes`);
    }
    assert.equal(await upgradeStatus(`${wrong}ws/${name}`), 403);
    assert.equal(await upgradeStatus(`${origin}/ws/${name}`), 403);
    // The right token is let in (and the xterm assets come from the installed package).
    assert.equal((await get(`${served.url}assets/xterm.js`)).status, 200);
    assert.equal(await upgradeStatus(`${served.url}ws/${name}`), 101);
    // Only this env is served.
    assert.equal(await upgradeStatus(`${served.url}ws/other`), 404);
  });

  test('spoon who lists the browsers as read-only web viewers', async () => {
    const listed = await waitFor('who to list two web viewers', async () => {
      const v = await viewers();
      return v.length === 2 ? v : undefined;
    });
    assert.ok(listed.every((c) => c.readOnly && c.person.startsWith('web-viewer-')), JSON.stringify(listed));
    const table = await box.spoon(['who', name]);
    assert.match(table.stdout, /web-viewer-\d+\s+web viewer\s+read-only/);
  });

  test('spoon unshare NAME web ends every page\'s stream and the serving process', async () => {
    const r = await box.spoon(['unshare', name, 'web']);
    assert.equal(r.code, 0, r.stderr);
    for (const page of [first, second]) {
      await waitFor('the page to say the view ended', async () => ((await state(page)) === 'ended' ? true : undefined));
      assert.match(await page.textContent('#status') ?? '', /unshare/);
    }
    assert.equal(await served.exit, 0, served.stderr());
    await waitFor('the viewers to be gone from who', async () => ((await viewers()).length === 0 ? true : undefined));
  });
});

describe('spoon share NAME --web --for', () => {
  test('the page\'s stream ends when the time is up', async () => {
    // Long enough for a page to open first (a new page takes chromium a second or two here).
    const served = await serve(['share', name, '--web', '--for', '10s']);
    try {
      const page = await openPage(served.url);
      await waitFor('the page to say the view ended', async () => ((await state(page)) === 'ended' ? true : undefined));
      assert.match(await page.textContent('#status') ?? '', /--for/);
      assert.equal(await served.exit, 0, served.stderr());
      assert.equal(await upgradeStatus(`${served.url}ws/${name}`).catch(() => 0), 0);
    } finally {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
    }
  });
});

describe('spoon ui', () => {
  test('the dashboard lists the envs and their web viewers, links to a live view, and Ctrl-C ends it', async () => {
    const served = await serve(['ui', '--json']);
    try {
      const board = await (await browser.newContext()).newPage();
      await board.goto(served.url);
      const row = board.locator(`tr[data-env="${name}"]`);
      assert.match((await row.textContent()) ?? '', /running/);
      await row.locator('a', { hasText: 'watch' }).click();
      await waitFor('the live view to connect', async () => ((await state(board)) === 'live' ? true : undefined));
      await ownerTypes('echo via-dashboard-$((5*5))');
      await waitFor('the live view to show the output', shows(board, 'via-dashboard-25'));

      const other = await (await browser.newContext()).newPage();
      await other.goto(served.url);
      assert.match((await other.locator(`tr[data-env="${name}"] td.who`).textContent()) ?? '', /web-viewer-\d+ \(web viewer, read-only\)/);

      served.child.kill('SIGINT');
      await waitFor('the live view to end', async () => ((await state(board)) === 'ended' ? true : undefined));
      assert.equal(await served.exit, 0, served.stderr());
    } finally {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
    }
  });
});
