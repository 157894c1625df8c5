import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Utf8Splitter, eventLine, headerLine, incompleteTail, markerLabel, parseCast, playback, timeline } from '../../src/pairing/cast.js';
import { UsageError } from '../../src/errors.js';

describe('UTF-8 splitting of terminal output', () => {
  test('a character cut between chunks waits for its rest', () => {
    const text = 'a é € 🙂 z';
    const bytes = Buffer.from(text);
    // Every cut point, also inside each multi-byte character.
    for (let cut = 0; cut <= bytes.length; cut++) {
      const s = new Utf8Splitter();
      const out = s.push(bytes.subarray(0, cut)) + s.push(bytes.subarray(cut)) + s.flush();
      assert.equal(out, text, `cut at byte ${cut}`);
      assert.ok(!out.includes('\ufffd'));
    }
  });

  test('byte by byte', () => {
    const text = '€🙂ü';
    const s = new Utf8Splitter();
    const parts = [...Buffer.from(text)].map((b) => s.push(Buffer.from([b])));
    assert.equal(parts.join('') + s.flush(), text);
    assert.ok(parts.every((p) => !p.includes('\ufffd')));
  });

  test('how much of the end to keep back', () => {
    assert.equal(incompleteTail(Buffer.from('abc')), 0);
    assert.equal(incompleteTail(Buffer.from('é')), 0);
    assert.equal(incompleteTail(Buffer.from('é').subarray(0, 1)), 1);
    assert.equal(incompleteTail(Buffer.from('x€').subarray(0, 3)), 2);
    assert.equal(incompleteTail(Buffer.from('🙂').subarray(0, 3)), 3);
    assert.equal(incompleteTail(Buffer.from([])), 0);
  });

  test('bytes that never make a character are not held back', () => {
    const s = new Utf8Splitter();
    assert.equal(s.push(Buffer.from([0x61, 0x80, 0x80, 0x80, 0x80])), 'a\ufffd\ufffd\ufffd\ufffd');
    assert.equal(s.push(Buffer.from([0xff])), '\ufffd');
  });

  test('an unfinished character at the very end is flushed as U+FFFD', () => {
    const s = new Utf8Splitter();
    assert.equal(s.push(Buffer.from('ok€').subarray(0, 3)), 'ok');
    assert.equal(s.flush(), '\ufffd');
    assert.equal(s.flush(), '');
  });
});

describe('writing a recording', () => {
  test('the header and events are one JSON line each', () => {
    assert.equal(headerLine({ version: 2, width: 80, height: 24, timestamp: 1700000000 }), '{"version":2,"width":80,"height":24,"timestamp":1700000000}\n');
    assert.equal(eventLine(1.23456789, 'o', 'hi\r\n'), '[1.234568,"o","hi\\r\\n"]\n');
    assert.equal(eventLine(2, 'm', 'join bob'), '[2,"m","join bob"]\n');
    assert.equal(eventLine(-0.5, 'r', '100x30'), '[0,"r","100x30"]\n');
  });

  test('what it writes reads back', () => {
    const text = headerLine({ version: 2, width: 120, height: 35, title: 'spoon demo', env: { TERM: 'xterm-256color' } }) + eventLine(0.1, 'o', '\u001b[1mé\u001b[0m') + eventLine(0.2, 'm', 'leave bob');
    const cast = parseCast(text, 'x.cast');
    assert.deepEqual(cast.header, { version: 2, width: 120, height: 35, title: 'spoon demo', env: { TERM: 'xterm-256color' } });
    assert.deepEqual(cast.events, [
      [0.1, 'o', '\u001b[1mé\u001b[0m'],
      [0.2, 'm', 'leave bob'],
    ]);
  });

  test('a marker names the event, who, and what', () => {
    assert.equal(markerLabel({ event: 'join', who: 'bob@desk', kind: 'member', detail: 'read-write' }), 'join bob@desk (member, read-write)');
    assert.equal(markerLabel({ event: 'unshare', who: 'carol', kind: 'guest', detail: '' }), 'unshare carol (guest)');
    assert.equal(markerLabel({ event: 'x', who: 'y', kind: '', detail: '' }), 'x y');
  });
});

describe('reading a recording: a bad file names the line', () => {
  const bad = (text: string, line: number, why: RegExp) =>
    assert.throws(
      () => parseCast(text, 'rec.cast'),
      (err: unknown) => err instanceof UsageError && err.exitCode === 2 && err.message.startsWith(`rec.cast:${line}: `) && why.test(err.message),
    );
  const head = '{"version":2,"width":80,"height":24}\n';

  test('the header', () => {
    bad('', 1, /empty/);
    bad('hello\n', 1, /not JSON/);
    bad('[1]\n', 1, /not a JSON object/);
    bad('{"version":1,"width":80,"height":24,"stdout":[]}', 1, /version 1: only asciinema v2/);
    bad('{"version":2,"width":0,"height":24}\n', 1, /width/);
    bad('{"version":2,"width":80,"height":"24"}\n', 1, /height/);
    bad('{"version":2,"width":80,"height":24,"idle_time_limit":-1}\n', 1, /idle_time_limit/);
  });

  test('the events', () => {
    bad(head + '[0.1,"o","a"]\n{"x":1}\n', 3, /\[time, code, data\]/);
    bad(head + '[0.1,"o","a"\n', 2, /not JSON/);
    bad(head + '["1","o","a"]\n', 2, /time/);
    bad(head + '[1,"o",5]\n', 2, /data/);
    bad(head + '[1,"","x"]\n', 2, /code/);
    bad(head + '[2,"o","a"]\n[1,"o","b"]\n', 3, /before the event above/);
    bad(head + '[1,"r","wide"]\n', 2, /COLSxROWS/);
  });

  test('blank lines, unknown codes and a missing final newline are fine', () => {
    const cast = parseCast(head + '[0.5,"i","x"]\n\n[1,"o","b"]', 'rec.cast');
    assert.equal(cast.events.length, 2);
  });
});

describe('replay timing', () => {
  const events: [number, string, string][] = [
    [0.5, 'o', 'a'],
    [1, 'm', 'join bob'],
    [1.5, 'o', 'b'],
    [11.5, 'o', 'c'],
  ];

  test('the original timing, only output drawn', () => {
    assert.deepEqual(playback(events, { speed: 1, idleLimit: undefined }), [
      { at: 500, data: 'a' },
      { at: 1500, data: 'b' },
      { at: 11500, data: 'c' },
    ]);
  });

  test('pauses capped by the idle limit, then scaled by the speed', () => {
    assert.deepEqual(
      playback(events, { speed: 2, idleLimit: 2 }).map((s) => s.at),
      [250, 750, 1750],
    );
  });

  test('markers and resizes on the same clock as the output, never after the output that follows them', () => {
    const withResize: [number, string, string][] = [...events.slice(0, 3), [9, 'r', '100x30'], [11.5, 'o', 'c'], [20, 'm', 'end']];
    assert.deepEqual(timeline(withResize, { speed: 1, idleLimit: undefined }).map((e) => [e.at, e.code]), [
      [500, 'o'],
      [1000, 'm'],
      [1500, 'o'],
      [9000, 'r'],
      [11500, 'o'],
      [20000, 'm'],
    ]);
    // Capped at 2 s: the resize is 2 s after b, but c is only 2 s after b too.
    assert.deepEqual(timeline(withResize, { speed: 2, idleLimit: 2 }).map((e) => e.at), [250, 500, 750, 1750, 1750, 2750]);
    assert.deepEqual(
      timeline(withResize, { speed: 2, idleLimit: 2 }).filter((e) => e.code === 'o').map((e) => e.at),
      playback(withResize, { speed: 2, idleLimit: 2 }).map((e) => e.at),
    );
  });
});
