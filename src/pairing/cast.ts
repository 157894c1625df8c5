/**
 * asciinema's v2 recording format (`.cast`, https://docs.asciinema.org/manual/asciicast/v2/):
 * one JSON header line, then one JSON event line each, `[seconds, code, data]`: `o` for
 * output, `m` for a marker, `r` for a resize (`COLSxROWS`). A recording is valid after
 * every line, so one cut short by Ctrl-C or a crash still plays. Pure: no I/O here.
 */
import { UsageError } from '../errors.js';

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** When the recording started (Unix seconds). */
  timestamp?: number;
  /** Pauses longer than this many seconds are shortened to it on replay. */
  idle_time_limit?: number;
  title?: string;
  env?: Record<string, string>;
}

export type CastEvent = [time: number, code: string, data: string];

export function headerLine(header: CastHeader): string {
  return JSON.stringify(header) + '\n';
}

/** Microseconds are asciinema's own precision; more digits only make the file longer. */
export function eventLine(time: number, code: 'o' | 'm' | 'r', data: string): string {
  return JSON.stringify([Math.round(Math.max(0, time) * 1e6) / 1e6, code, data]) + '\n';
}

export function resizeData(cols: number, rows: number): string {
  return `${cols}x${rows}`;
}

/**
 * How many bytes at the end of `buf` start a UTF-8 character that is not complete yet
 * (0 to 3). Terminal output arrives in chunks cut anywhere; an event holds text, so a
 * character split across two chunks must wait for its rest, or it would be written as
 * two replacement characters. Bytes that can never become a character count as complete
 * (they are written as U+FFFD), so the carried tail never grows past 3 bytes.
 */
export function incompleteTail(buf: Uint8Array): number {
  const end = buf.length;
  for (let back = 1; back <= Math.min(3, end); back++) {
    const byte = buf[end - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf5 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Turns a byte stream into text without splitting a character between two events. */
export class Utf8Splitter {
  private carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const keep = incompleteTail(buf);
    this.carry = Buffer.from(buf.subarray(buf.length - keep));
    return buf.subarray(0, buf.length - keep).toString('utf8');
  }

  /** What is left at the end: an unfinished character, as U+FFFD. */
  flush(): string {
    const rest = this.carry.toString('utf8');
    this.carry = Buffer.alloc(0);
    return rest;
  }
}

export interface Cast {
  header: CastHeader;
  events: CastEvent[];
}

/**
 * Reads a recording; anything that is not asciinema v2 is a usage error naming the
 * file and line. Event codes other than o, m and r (`i`, input) are kept: players skip them.
 */
export function parseCast(text: string, file: string): Cast {
  const lines = text.split('\n');
  const bad = (line: number, why: string) => new UsageError(`${file}:${line}: ${why}`, { hint: 'spoon replay plays asciinema v2 recordings (.cast), as spoon record writes them' });
  const first = lines[0]?.trim() ?? '';
  if (first === '') throw bad(1, 'empty, not an asciinema v2 recording');
  let header: unknown;
  try {
    header = JSON.parse(first);
  } catch {
    throw bad(1, 'the header is not JSON');
  }
  if (!isObject(header)) throw bad(1, 'the header is not a JSON object');
  if (header.version !== 2) throw bad(1, `version ${JSON.stringify(header.version ?? null)}: only asciinema v2 is supported`);
  for (const key of ['width', 'height'] as const) {
    const v = header[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(1, `${key} must be a positive whole number`);
  }
  const limit = header.idle_time_limit;
  if (limit !== undefined && limit !== null && (typeof limit !== 'number' || !(limit > 0))) throw bad(1, 'idle_time_limit must be a positive number');

  const events: CastEvent[] = [];
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      throw bad(i + 1, 'not JSON');
    }
    if (!Array.isArray(ev) || ev.length !== 3) throw bad(i + 1, 'an event is [time, code, data]');
    const [time, code, data] = ev as unknown[];
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw bad(i + 1, 'the time must be a number of seconds, 0 or more');
    if (typeof code !== 'string' || code === '') throw bad(i + 1, 'the event code must be a string such as "o"');
    if (typeof data !== 'string') throw bad(i + 1, 'the event data must be a string');
    if (time < last) throw bad(i + 1, `time ${time} is before the event above it (${last})`);
    if (code === 'r' && !/^\d+x\d+$/.test(data)) throw bad(i + 1, `a resize is "COLSxROWS", not ${JSON.stringify(data)}`);
    last = time;
    events.push([time, code, data]);
  }
  return { header: header as unknown as CastHeader, events };
}

export interface PlaybackOptions {
  /** 2 plays twice as fast. */
  speed: number;
  /** Longest pause, in recorded seconds; undefined keeps every pause as it was. */
  idleLimit: number | undefined;
}

export interface PlaybackStep {
  /** When to write, in milliseconds from the start of the replay. */
  at: number;
  data: string;
}

/**
 * The output events and when to write them. Pauses are capped first (in recorded
 * time, like asciinema's idle limit), then scaled by the speed. Markers and resizes
 * draw nothing: a replay into a terminal keeps its screen as the recording drew it.
 */
export function playback(events: CastEvent[], o: PlaybackOptions): PlaybackStep[] {
  return timeline(events, o)
    .filter((e) => e.code === 'o')
    .map(({ at, data }) => ({ at, data }));
}

export interface TimelineEvent extends PlaybackStep {
  code: 'o' | 'm' | 'r';
}

/**
 * Output, markers and resizes on the replay's clock (the web replay's). Output is timed
 * exactly as playback() times it, so the terminal and the page agree; a marker or a
 * resize sits its own (capped, scaled) time after the output before it, but never after
 * the output that follows it in the recording.
 */
export function timeline(events: CastEvent[], o: PlaybackOptions): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const cap = (gap: number) => (o.idleLimit === undefined ? gap : Math.min(gap, o.idleLimit)) / o.speed;
  let prev = 0;
  let at = 0;
  for (const [time, code, data] of events) {
    if (code === 'o') {
      at += cap(time - prev);
      prev = time;
      out.push({ at: at * 1000, code, data });
    } else if (code === 'm' || code === 'r') {
      out.push({ at: (at + cap(time - prev)) * 1000, code, data });
    }
  }
  // The output after a marker may come sooner than the marker's own pause: it waits for nothing.
  let next = Infinity;
  for (let i = out.length - 1; i >= 0; i--) {
    const e = out[i] as TimelineEvent;
    if (e.code === 'o') next = e.at;
    else e.at = Math.min(e.at, next);
  }
  return out;
}

/** One line a marker shows: `join bob@desk (member, read-write)`. */
export function markerLabel(entry: { event: string; who: string; kind: string; detail: string }): string {
  const about = [entry.kind, entry.detail].filter(Boolean).join(', ');
  return `${entry.event} ${entry.who}${about ? ` (${about})` : ''}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
