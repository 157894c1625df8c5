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
.replay { display: flex; gap: 16px; align-items: flex-start; }
#controls { padding: 0 6px 6px; }
button { background: #2a2d33; color: #d8dade; border: 1px solid #3c4043; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
#markers { margin: 6px 0; padding-left: 0; list-style: none; }
#markers button { text-align: left; margin-bottom: 4px; }
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

/** The page of `spoon replay FILE --web`: a player of the recording at `cast.json`. */
export function replayPage(title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${t} · spoon replay</title>
<link rel="stylesheet" href="./assets/xterm.css"><style>${STYLE}</style></head>
<body data-cast="./cast.json">
<header>spoon · <b>${t}</b> · recording · <span id="status" data-state="loading">loading…</span></header>
<main class="replay"><div><div id="controls"><button id="play" type="button">pause</button> <button id="restart" type="button">restart</button> <span id="clock" class="muted"></span></div><div id="term"></div></div>
<aside><b>markers</b><ol id="markers"></ol></aside></main>
<script src="./assets/xterm.js"></script><script src="./assets/replay.js"></script>
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
 * The terminal of both pages (as `term`, also window.spoonTerm). It takes no input
 * (disableStdin) and nothing is wired from it anywhere.
 */
const TERMINAL_SETUP = `  const term = new Terminal({ disableStdin: true, cursorBlink: false, scrollback: 10000, fontSize: 14 });
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
`;

/**
 * The live view's script. The terminal takes no input (disableStdin) and nothing is
 * wired from it to the socket: a page never sends; the server would drop it anyway.
 */
export const VIEW_SCRIPT = `(() => {
  'use strict';
  const status = document.getElementById('status');
  const say = (state, text) => { status.dataset.state = state; status.textContent = text; document.body.dataset.state = state; };
${TERMINAL_SETUP}  const url = new URL(document.body.dataset.ws, location.href);
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

/**
 * The replay page's script: plays cast.json (the output, markers and resizes already on
 * the replay's clock, cast.ts's timeline(), so --speed and --idle-limit apply as in the
 * terminal). Seeking (restart, a marker) redraws from the start up to that point at once.
 * States on body[data-state]: loading, playing, paused, finished, ended (could not load).
 */
export const REPLAY_SCRIPT = `(() => {
  'use strict';
  const status = document.getElementById('status');
  const say = (state, text) => { status.dataset.state = state; status.textContent = text; document.body.dataset.state = state; };
${TERMINAL_SETUP}  const playButton = document.getElementById('play');
  const clock = document.getElementById('clock');
  const fmt = (ms) => { const s = Math.floor(ms / 1000); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
  fetch(document.body.dataset.cast, { cache: 'no-store' })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(start, (err) => say('ended', 'cannot load the recording: ' + err.message));

  function start(rec) {
    const events = rec.events;
    const duration = events.length ? events[events.length - 1].at : 0;
    let next = 0;
    let pos = 0;
    let t0 = null;
    let timer = null;
    const now = () => (t0 === null ? pos : performance.now() - t0);
    const showClock = () => { clock.textContent = fmt(Math.min(now(), duration)) + ' / ' + fmt(duration); };
    const apply = (e) => {
      if (e.code === 'o') term.write(e.data);
      else if (e.code === 'r') { const [c, r] = e.data.split('x').map(Number); if (c > 0 && r > 0) term.resize(c, r); }
    };
    const tick = () => {
      timer = null;
      const due = now();
      while (next < events.length && events[next].at <= due) apply(events[next++]);
      showClock();
      if (next >= events.length) { pos = duration; t0 = null; playButton.textContent = 'play'; say('finished', 'finished'); return; }
      timer = setTimeout(tick, Math.max(0, events[next].at - now()));
    };
    const pause = () => {
      if (t0 === null) return;
      pos = now(); t0 = null;
      if (timer !== null) { clearTimeout(timer); timer = null; }
      playButton.textContent = 'play'; showClock(); say('paused', 'paused');
    };
    const play = () => {
      if (next >= events.length) return seek(0, true);
      t0 = performance.now() - pos;
      playButton.textContent = 'pause'; say('playing', 'playing');
      tick();
    };
    /** Redraws everything before event i at once, then goes on from there. */
    const seek = (i, playing) => {
      if (timer !== null) { clearTimeout(timer); timer = null; }
      t0 = null;
      term.reset();
      term.resize(rec.cols, rec.rows);
      let chunk = '';
      for (next = 0; next < i; next++) {
        const e = events[next];
        if (e.code === 'o') chunk += e.data;
        else { term.write(chunk); chunk = ''; apply(e); }
      }
      term.write(chunk);
      pos = i < events.length ? events[i].at : duration;
      if (playing) play(); else { showClock(); say('paused', 'paused'); }
    };
    const list = document.getElementById('markers');
    events.forEach((e, i) => {
      if (e.code !== 'm') return;
      const item = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.at = String(e.at);
      b.textContent = fmt(e.at) + ' ' + e.data;
      b.addEventListener('click', () => seek(i, t0 !== null || next >= events.length));
      item.appendChild(b);
      list.appendChild(item);
    });
    if (!list.children.length) list.outerHTML = '<p class="muted">none</p>';
    playButton.addEventListener('click', () => (t0 === null ? play() : pause()));
    document.getElementById('restart').addEventListener('click', () => seek(0, true));
    window.spoonReplay = { pause, play, seek, markers: events.filter((e) => e.code === 'm').length };
    term.resize(rec.cols, rec.rows);
    play();
  }
})();
`;
