/**
 * What the browser tests (web.test.ts, web-replay.test.ts) share: starting a serving
 * spoon command and reading its URL, what a page's terminal shows, and raw HTTP and
 * WebSocket checks of the token.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { SPOON, waitFor, type Sandbox } from './harness.js';

/** Debian's chromium (scripts/setup-browser.sh), driven by playwright-core. */
export const CHROMIUM = process.env.SPOON_TEST_CHROMIUM ?? '/usr/bin/chromium';

export interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/**
 * Starts a serving spoon command and waits for its URL (the last line of stdout: JSON
 * with --json). `detached`: in its own process group, as a terminal runs it, for Ctrl-C.
 */
export async function serve(box: Sandbox, args: string[], opts: { detached?: boolean } = {}): Promise<Served> {
  const child = spawn(process.execPath, [SPOON, ...args], { env: box.env(), cwd: box.dir, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const line = await waitFor(`spoon ${args.join(' ')} to print its URL (stderr: ${stderr})`, () => (stdout.endsWith('\n') ? stdout.trim().split('\n').pop() : undefined), 120_000);
  const url = args.includes('--json') ? (JSON.parse(line) as { url: string }).url : line;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/$/);
  return { child, url, stdout: () => stdout, stderr: () => stderr, exit };
}

/** What the page's terminal shows (xterm.js's buffer, scrollback included). */
export function pageText(page: Page): Promise<string> {
  return page.evaluate(`(() => { const b = window.spoonTerm.buffer.active; const out = []; for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true)); return out.join('\\n'); })()`);
}

/** For waitFor: true once the page's terminal shows `text`. */
export const shows = (page: Page, text: string) => async () => ((await pageText(page)).includes(text) ? true : undefined);

/** The page's state (body[data-state]): loading, live, playing, paused, finished, ended. */
export const pageState = (page: Page) => page.evaluate('document.body.dataset.state') as Promise<string | undefined>;

/** Status and body of a GET. */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The HTTP status a WebSocket upgrade gets (101 when it is let in). */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}
