/**
 * The pages the web server sends: a live view (xterm.js fed by the WebSocket, with no
 * way to send anything back) and the dashboard of `spoon ui`. Every URL in them is
 * relative, so each keeps the token of the page it came from.
 */
import { RESIZE_OSC } from '../pairing/viewer.js';

export interface DashboardEnv {
  name: string;
  state: string;
  image: string;
  /** Where it runs, when the engine says (a cluster node); else null. */
  node: string | null;
  /** Published ports, `container -> host:port`. */
  ports: string[];
  ssh: string | null;
  /** Who is attached, as `spoon who` says it. */
  attached: { person: string; role: string; readOnly: boolean }[];
  /** Seconds since anything happened in the session (or per the idle watcher), or null when unknown. */
  idleSeconds: number | null;
  /** idle_stop, when set. */
  idleStop: string | null;
  /** A live view can be opened (running, with sshd). */
  watchable: boolean;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const STYLE = `
body { margin: 0; background: #15171a; color: #d8dade; font: 14px/1.4 system-ui, sans-serif; }
header { padding: 8px 12px; border-bottom: 1px solid #2a2d33; }
header b { color: #fff; }
main { padding: 12px; }
#term { display: inline-block; padding: 6px; }
#status[data-state=ended] { color: #f28b82; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 4px 12px 4px 0; vertical-align: top; }
th { color: #9aa0a6; font-weight: normal; border-bottom: 1px solid #2a2d33; }
a { color: #8ab4f8; }
.muted { color: #9aa0a6; }
`;

/** `base`: the relative way back to the token's root (`./` or `../`). */
export function livePage(name: string, base: string): string {
  const n = escapeHtml(name);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${n} · spoon live view</title>
<link rel="stylesheet" href="${base}assets/xterm.css"><style>${STYLE}</style></head>
<body data-ws="${base}ws/${encodeURIComponent(name)}">
<header>spoon · <b>${n}</b> · read-only live view · <span id="status" data-state="connecting">connecting…</span></header>
<main><div id="term"></div></main>
<script src="${base}assets/xterm.js"></script><script src="${base}assets/view.js"></script>
</body></html>
`;
}

export function dashboardPage(envs: DashboardEnv[]): string {
  const rows = envs.map((e) => {
    const people = e.attached.length === 0 ? '<span class="muted">nobody</span>' : e.attached.map((a) => `${escapeHtml(a.person)} <span class="muted">(${escapeHtml(a.role)}${a.readOnly ? ', read-only' : ''})</span>`).join('<br>');
    const idle = e.idleSeconds === null ? '-' : formatSeconds(e.idleSeconds) + (e.idleStop ? ` / ${escapeHtml(e.idleStop)}` : '');
    const view = e.watchable ? `<a href="env/${encodeURIComponent(e.name)}">watch</a>` : '<span class="muted">-</span>';
    return `<tr data-env="${escapeHtml(e.name)}"><td>${escapeHtml(e.name)}</td><td>${escapeHtml(e.state)}</td><td>${escapeHtml(e.image)}</td><td>${escapeHtml(e.node ?? '-')}</td><td>${escapeHtml(e.ssh ?? '-')}</td><td>${e.ports.map(escapeHtml).join('<br>') || '-'}</td><td class="who">${people}</td><td>${idle}</td><td>${view}</td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>spoon</title><style>${STYLE}</style></head>
<body>
<header><b>spoon</b> · environments · read-only, refreshed every 5 s</header>
<main>${
    envs.length === 0
      ? '<p class="muted">no environments yet; create one with <code>spoon NAME</code></p>'
      : `<table><thead><tr><th>NAME</th><th>STATE</th><th>IMAGE</th><th>NODE</th><th>SSH</th><th>PORTS</th><th>ATTACHED</th><th>IDLE</th><th>LIVE VIEW</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`
  }</main>
</body></html>
`;
}

function formatSeconds(s: number): string {
  return s >= 86400 ? `${Math.floor(s / 86400)}d` : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m` : `${s}s`;
}

/**
 * The live view's script. The terminal takes no input (disableStdin) and nothing is
 * wired from it to the socket: a page never sends; the server would drop it anyway.
 */
export const VIEW_SCRIPT = `(() => {
  'use strict';
  const status = document.getElementById('status');
  const say = (state, text) => { status.dataset.state = state; status.textContent = text; document.body.dataset.state = state; };
  const term = new Terminal({ disableStdin: true, cursorBlink: false, scrollback: 10000, fontSize: 14 });
  window.spoonTerm = term;
  term.open(document.getElementById('term'));
  // tmux switches to the alternate screen, which has no scrollback: the page stays on the
  // normal one, so what scrolls off the top is kept (scrollback from the moment it opened).
  term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, (params) => params.length > 0 && params.every((p) => p === 1049 || p === 1047 || p === 47));
  term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, (params) => params.length > 0 && params.every((p) => p === 1049 || p === 1047 || p === 47));
  // The session's window changed size: the redraw at the new size follows.
  term.parser.registerOscHandler(${RESIZE_OSC}, (data) => {
    const [cols, rows] = data.split(';').map(Number);
    if (cols > 0 && rows > 0) term.resize(cols, rows);
    return true;
  });
  const url = new URL(document.body.dataset.ws, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let ended = false;
  const end = (why) => { if (ended) return; ended = true; say('ended', 'ended: ' + why); };
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') { term.write(new Uint8Array(m.data)); return; }
    const msg = JSON.parse(m.data);
    if (msg.type === 'hello') { term.resize(msg.cols, msg.rows); say('live', 'live, read-only, as ' + msg.who); }
    else if (msg.type === 'end') end(msg.reason);
  };
  ws.onclose = () => end('the connection closed');
})();
`;
