/**
 * The local web server of `spoon share NAME --web` and `spoon ui` (SPEC "Watch in a
 * browser"). Every route, the WebSocket upgrade and the static assets included, sits
 * under one unguessable token (`/TOKEN/...`); anything else gets 403 and no data.
 *
 * A live view is one read-only tmux client per browser (viewer.ts): each browser gets
 * tmux's own full redraw when it connects and appears in `spoon who` on its own. Its
 * bytes go to the page over a WebSocket; whatever the page sends is dropped unread.
 *
 * `spoon replay FILE --web` serves one recording the same way: its player page at the
 * root and the recording, timed, at cast.json; there is nothing live and no WebSocket.
 *
 * Loaded only by the commands that serve (dynamic import): ws is not on spoon's fast paths.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { RuntimeError } from '../errors.js';
import type { Viewer } from '../pairing/viewer.js';
import type { TimelineEvent } from '../pairing/cast.js';
import { dashboardPage, livePage, replayPage, REPLAY_SCRIPT, VIEW_SCRIPT, type DashboardEnv } from './pages.js';

export interface WebServerOptions {
  /** Address to bind (the `listen` setting). */
  listen: string;
  /** 0: a free port. */
  port: number;
  /** share: only this env's live view, at the root; undefined (ui): the dashboard, and every env's live view. */
  only?: string | undefined;
  /** What the dashboard shows (ui only). */
  dashboard?: () => Promise<DashboardEnv[]>;
  /** Attaches a read-only viewer of env NAME as `who`; without it nothing is live (replay). */
  openViewer?: (name: string, who: string) => Promise<Viewer>;
  /** replay: this recording's player at the root, instead of any live view or dashboard. */
  replay?: ReplayData;
  /** A viewer came or went (for the owner's terminal). */
  onEvent?: (message: string) => void;
}

/** What the replay page plays (cast.json): the header's size and cast.ts's timeline. */
export interface ReplayData {
  title: string;
  cols: number;
  rows: number;
  events: TimelineEvent[];
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  /** Ends every viewer (the pages say `reason`) and stops serving. */
  close(reason: string): Promise<void>;
}

/** Pauses a viewer's output while this much is still queued for a slow browser. */
const HIGH_WATER = 4 * 1024 * 1024;

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = randomBytes(24).toString('base64url');
  const tokenHash = digest(token);
  const assets = loadAssets();
  const live = new Set<{ ws: WebSocket; viewer: Viewer | undefined }>();
  let counter = 0;
  let closing: string | undefined;
  const replayJson = opts.replay ? JSON.stringify(opts.replay) : '';

  /** The path below the token, or undefined when the token is missing or wrong (compared in constant time). */
  const authorize = (url: string | undefined): string[] | undefined => {
    const path = (url ?? '/').split('?')[0] ?? '/';
    const [, given = '', ...rest] = path.split('/');
    if (!timingSafeEqual(digest(given), tokenHash)) return undefined;
    try {
      return rest.map((p) => decodeURIComponent(p));
    } catch {
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rest = authorize(req.url);
    if (!rest) return send(res, 403, 'text/plain', 'forbidden\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'read-only\n');
    const [first = '', second = ''] = rest;
    if (first === 'assets') {
      const asset = assets[second];
      return asset ? send(res, 200, asset.type, asset.body) : send(res, 404, 'text/plain', 'not found\n');
    }
    if (opts.replay) {
      if (first === '' && rest.length <= 1) return send(res, 200, 'text/html', replayPage(opts.replay.title));
      if (first === 'cast.json' && rest.length === 1) return send(res, 200, 'application/json', replayJson);
      return send(res, 404, 'text/plain', 'not found\n');
    }
    if (first === '' && rest.length <= 1) {
      if (opts.only !== undefined) return send(res, 200, 'text/html', livePage(opts.only, './'));
      const envs = opts.dashboard ? await opts.dashboard() : [];
      return send(res, 200, 'text/html', dashboardPage(envs));
    }
    if (first === 'api' && second === 'envs' && opts.only === undefined) {
      return send(res, 200, 'application/json', JSON.stringify(opts.dashboard ? await opts.dashboard() : []));
    }
    if (first === 'env' && second && (opts.only === undefined || opts.only === second) && rest.length === 2) {
      return send(res, 200, 'text/html', livePage(second, '../'));
    }
    return send(res, 404, 'text/plain', 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`));
  });
  // Browsers never send big frames here; a page that does is cut off.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const rest = authorize(req.url);
    const name = rest?.[0] === 'ws' && rest.length === 2 ? rest[1] : undefined;
    if (!rest || !name || !opts.openViewer || (opts.only !== undefined && opts.only !== name) || closing !== undefined) {
      socket.end(`HTTP/1.1 ${rest ? '404 Not Found' : '403 Forbidden'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void watch(ws, name));
  });

  const watch = async (ws: WebSocket, name: string) => {
    // Nothing from the page reaches anything: its messages are dropped unread.
    ws.on('message', () => {});
    const entry: { ws: WebSocket; viewer: Viewer | undefined } = { ws, viewer: undefined };
    live.add(entry);
    const who = `web-viewer-${++counter}`;
    const end = (reason: string) => {
      live.delete(entry);
      entry.viewer?.close();
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'end', reason }));
        ws.close(1000);
      }
    };
    ws.on('close', () => {
      if (!live.has(entry)) return;
      live.delete(entry);
      entry.viewer?.close();
      opts.onEvent?.(`${who} left ${name}`);
    });
    let viewer: Viewer;
    try {
      if (!opts.openViewer) throw new Error('nothing is live here');
      viewer = await opts.openViewer(name, who);
    } catch (err) {
      end(err instanceof Error ? err.message : String(err));
      return;
    }
    entry.viewer = viewer;
    if (!live.has(entry)) {
      viewer.close();
      return;
    }
    opts.onEvent?.(`${who} is watching ${name}`);
    ws.send(JSON.stringify({ type: 'hello', name, who, cols: viewer.cols, rows: viewer.rows }));
    viewer.output.on('data', (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk);
      if (ws.bufferedAmount > HIGH_WATER) {
        viewer.output.pause();
        const resume = setInterval(() => {
          if (ws.readyState !== ws.OPEN || ws.bufferedAmount < HIGH_WATER / 4) {
            clearInterval(resume);
            viewer.output.resume();
          }
        }, 50);
      }
    });
    void viewer.closed.then(() => {
      if (live.has(entry)) {
        opts.onEvent?.(`${who} was detached from ${name}`);
        end(`the live view of ${name} has ended`);
      }
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new RuntimeError(`cannot serve on ${opts.listen}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such address here' : err.message}`, {
          hint: err.code === 'EADDRINUSE' ? 'pick another --port, or leave it out for a free one' : 'check the listen setting',
        }),
      ),
    );
    server.listen(opts.port, opts.listen, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    url: `http://${urlHost(opts.listen)}:${port}/${token}/`,
    close: async (reason: string) => {
      closing = reason;
      const viewers = [...live].map((e) => e.viewer);
      for (const entry of [...live]) {
        live.delete(entry);
        entry.viewer?.close();
        if (entry.ws.readyState === entry.ws.OPEN) {
          entry.ws.send(JSON.stringify({ type: 'end', reason }));
          entry.ws.close(1000);
        }
      }
      await Promise.all(viewers.map((v) => v?.closed));
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(body),
    // The token is in the URL: never cached, never sent on as a referrer, never framed.
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The host part of the printed URL: an address that means "every address" is this machine's name. */
function urlHost(listen: string): string {
  if (listen === '0.0.0.0' || listen === '::') return hostname();
  return listen.includes(':') ? `[${listen}]` : listen;
}

/**
 * xterm.js and its stylesheet, read from the installed @xterm/xterm package (resolved
 * from this file, so from spoon's own node_modules): no CDN, works offline.
 */
function loadAssets(): Record<string, { type: string; body: string | Buffer }> {
  const require = createRequire(import.meta.url);
  const read = (path: string) => {
    try {
      return readFileSync(require.resolve(path));
    } catch (err) {
      throw new RuntimeError(`cannot read ${path}, which the web view serves: ${err instanceof Error ? err.message : String(err)}`, { hint: "reinstall spoon with its dependencies (npm ci); @xterm/xterm is one" });
    }
  };
  return {
    'xterm.js': { type: 'text/javascript', body: read('@xterm/xterm/lib/xterm.js') },
    'xterm.css': { type: 'text/css', body: read('@xterm/xterm/css/xterm.css') },
    'view.js': { type: 'text/javascript', body: VIEW_SCRIPT },
    'replay.js': { type: 'text/javascript', body: REPLAY_SCRIPT },
  };
}
