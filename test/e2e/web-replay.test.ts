/**
 * `spoon replay FILE --web`: a recording played in a real browser (Debian's chromium,
 * driven by playwright-core, as in web.test.ts). A small recording written by hand checks
 * the player (the header's size, its timing, --idle-limit, pause, restart, a marker to
 * jump to) and the token; a recording made with `spoon record --out` while a browser
 * watched the session live shows the owner's command in the page, and its markers and
 * the audit log name the browser a viewer and the recorder a recording.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SPOON, useSandbox, waitFor } from './harness.js';
import { CHROMIUM, get, pageState as state, pageText, serve as serveIn, shows, upgradeStatus, type Served } from './browser.js';

const box = useSandbox();
let browser: Browser;

const serve = (args: string[]) => serveIn(box, args, { detached: true });

/** Ctrl-C at the command's terminal: SIGINT to its process group. */
function ctrlC(served: { child: { pid?: number | undefined } }): void {
  assert.ok(served.child.pid);
  process.kill(-served.child.pid, 'SIGINT');
}

function stop(served: Served | undefined): void {
  if (served?.child.pid && served.child.exitCode === null) process.kill(-served.child.pid, 'SIGKILL');
}

const inState = (page: Page, want: string) => async () => ((await state(page)) === want ? true : undefined);

async function openPage(url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  return page;
}

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
});

describe('a recording written by hand', () => {
  // The last line comes ten minutes after the others: only an idle limit brings it.
  const cast = join(box.dir, 'hand.cast');
  before(() => {
    writeFileSync(
      cast,
      [
        { version: 2, width: 60, height: 12, title: 'hand <made>' },
        [0.1, 'o', 'first-line\r\n'],
        [0.2, 'm', 'join bob (member, read-write)'],
        [0.3, 'o', 'second-line\r\n'],
        [600, 'o', 'late-line\r\n'],
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
  });

  test('plays in the page at its size and timing; pause, a marker, play and restart', async () => {
    const served = await serve(['replay', 'hand.cast', '--web']);
    try {
      const page = await openPage(served.url);
      await waitFor('the page to play the first lines', shows(page, 'second-line'));
      assert.equal(await state(page), 'playing');
      assert.equal(await page.evaluate('`${window.spoonTerm.cols}x${window.spoonTerm.rows}`'), '60x12');
      assert.match((await page.textContent('header')) ?? '', /hand <made>/, 'the title, as text');
      assert.doesNotMatch(await pageText(page), /late-line/, 'ten minutes later, not yet');

      await page.click('#play');
      await waitFor('the page to pause', inState(page, 'paused'));
      const marker = page.locator('#markers button');
      assert.equal(await marker.count(), 1);
      assert.match((await marker.textContent()) ?? '', /^0:00 join bob \(member, read-write\)$/);
      // To the marker: what came before it, and nothing after it yet.
      await marker.click();
      assert.equal(await state(page), 'paused');
      const atMarker = await pageText(page);
      assert.match(atMarker, /first-line/);
      assert.doesNotMatch(atMarker, /second-line/);
      await page.click('#play');
      await waitFor('the page to play on from the marker', shows(page, 'second-line'));
      assert.equal(await state(page), 'playing');

      await page.click('#restart');
      await waitFor('the page to play again from the start', shows(page, 'second-line'));
      assert.equal((await pageText(page)).match(/first-line/g)?.length, 1, 'the screen was cleared first');

      ctrlC(served);
      assert.equal(await served.exit, 0, served.stderr());
    } finally {
      stop(served);
    }
  });

  test('--idle-limit shortens the long pause, as in the terminal; --json prints the URL as JSON', async () => {
    const served = await serve(['replay', 'hand.cast', '--web', '--idle-limit', '1', '--speed', '2', '--json']);
    try {
      assert.equal((JSON.parse(served.stdout().trim()) as { file: string }).file, 'hand.cast');
      const page = await openPage(served.url);
      await waitFor('the page to finish', inState(page, 'finished'));
      assert.match(await pageText(page), /first-line[\s\S]*second-line[\s\S]*late-line/);
      assert.match((await page.textContent('#clock')) ?? '', /0:00 \/ 0:00/, 'all in well under a second');
    } finally {
      stop(served);
    }
  });

  test('a wrong or missing token gets 403 and no data; nothing is live', async () => {
    const served = await serve(['replay', 'hand.cast', '--web', '--for', '1m']);
    try {
      const origin = new URL(served.url).origin;
      const wrong = `${origin}/${'x'.repeat(32)}/`;
      for (const url of [`${origin}/`, wrong, `${wrong}cast.json`, `${origin}/cast.json`, `${wrong}assets/replay.js`]) {
        const r = await get(url);
        assert.equal(r.status, 403, url);
        assert.doesNotMatch(r.body, /line/, url);
      }
      assert.equal(await upgradeStatus(`${wrong}ws/x`), 403);
      const right = await get(`${served.url}cast.json`);
      assert.equal(right.status, 200);
      assert.match(right.body, /second-line/);
      assert.equal(await upgradeStatus(`${served.url}ws/x`), 404);
    } finally {
      stop(served);
    }
  });

  test('bad input: a bad .cast is a usage error before anything is served; serving flags only with --web', async () => {
    writeFileSync(join(box.dir, 'bad.cast'), '{"version":1,"width":80,"height":24}\n');
    for (const [args, said] of [
      [['replay', 'bad.cast', '--web'], /bad\.cast:1: version 1/],
      [['replay', 'missing.cast', '--web'], /missing\.cast: no such file/],
      [['replay', 'hand.cast', '--web', '--port', 'http'], /--port: invalid port 'http'/],
      [['replay', 'hand.cast', '--web', '--for', 'soon'], /--for: invalid duration 'soon'/],
      [['replay', 'hand.cast', '--port', '8080'], /--port: only with --web/],
      [['replay', 'hand.cast', '--json'], /--json: only with --web/],
    ] as const) {
      const r = await box.spoon([...args], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, said);
      assert.equal(r.stdout, '', 'no URL');
    }
  });
});

describe('a recording made with spoon record', () => {
  const name = box.name('wrp');

  test("the owner's command plays in the page; a web viewer and the recorder are named so in its markers and the audit log", async () => {
    await box.up(name);
    const grant = await box.spoon(['exec', name, '--', '/etc/spoon/pair', 'grant', 'pair']);
    assert.equal(grant.code, 0, grant.stderr);
    const file = join(box.dir, 'made.cast');
    const rec = await serveRecorder([name, '--out', file]);
    const ownerTypes = async (line: string) => {
      const r = await box.spoon(['exec', name, '--', 'tmux', '-S', '/run/spoon/tmux.sock', 'send-keys', '-t', '=pair:', line, 'Enter']);
      assert.equal(r.code, 0, r.stderr);
    };
    await ownerTypes('echo web-replay-$((6*7))');
    await waitFor('the recording to hold the output', () => (readFileSync(file, 'utf8').includes('web-replay-42') ? true : undefined));

    // A browser watches live for a moment: a join and a leave in the recording.
    const live = await serve(['share', name, '--web']);
    try {
      const page = await openPage(live.url);
      await waitFor('the live view to connect', inState(page, 'live'));
      // The join hook asks tmux about the client: one gone at once would not be logged.
      await waitFor('the join to be recorded', () => (/"join web-viewer-1 /.test(readFileSync(file, 'utf8')) ? true : undefined));
      await page.close();
      await waitFor('the leave to be recorded', () => (/"leave web-viewer-1 /.test(readFileSync(file, 'utf8')) ? true : undefined));
      ctrlC(live);
      assert.equal(await live.exit, 0, live.stderr());
    } finally {
      stop(live);
    }
    process.kill(-(rec.pid ?? 0), 'SIGINT');
    assert.equal(await rec.exit, 0);

    const log = await box.spoon(['who', name, '--log', '--json']);
    assert.equal(log.code, 0, log.stderr);
    const entries = JSON.parse(log.stdout) as { event: string; who: string; kind: string }[];
    assert.ok(entries.some((e) => e.event === 'join' && e.who === 'web-viewer-1' && e.kind === 'viewer'), log.stdout);
    assert.ok(entries.some((e) => e.event === 'leave' && e.who === 'web-viewer-1' && e.kind === 'viewer'), log.stdout);
    assert.ok(entries.some((e) => e.event === 'join' && e.who.endsWith(' (recording)') && e.kind === 'recording'), log.stdout);

    const served = await serve(['replay', file, '--web', '--speed', '50']);
    try {
      const page = await openPage(served.url);
      await waitFor('the page to replay the owner\'s command', shows(page, 'web-replay-42'));
      assert.match(await pageText(page), /echo web-replay-\$\(\(6\*7\)\)/);
      const markers = await page.locator('#markers button').allTextContents();
      assert.ok(markers.some((m) => /join web-viewer-1 \(viewer, read-only\)$/.test(m)), markers.join('\n'));
      assert.ok(markers.some((m) => /leave web-viewer-1 \(viewer, read-only\)$/.test(m)), markers.join('\n'));
    } finally {
      stop(served);
    }
  });
});

/** `spoon record ARGS` in its own process group; resolves once it has begun. */
async function serveRecorder(args: string[]): Promise<{ pid: number | undefined; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [SPOON, 'record', ...args], { env: box.env(), cwd: box.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitFor(`spoon record to start (stderr: ${stderr})`, () => (/recording .* Ctrl-C to stop/.test(stderr) ? true : undefined), 60_000);
  return { pid: child.pid, exit };
}
