/**
 * The streams of a started exec. After `POST /exec/{id}/start` the engine hands over
 * the connection: with a TTY it carries the terminal's bytes as they are; without
 * one, output comes in frames (8-byte header: stream 1 stdout / 2 stderr, three
 * zero bytes, payload size as uint32 big-endian) and input goes in raw.
 */
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';

export interface ExecStreams {
  stdout: Readable;
  stderr: Readable | undefined;
  stdin: Writable | undefined;
  /** Settles when the output has ended: with undefined, or with the error that cut it off. */
  ended: Promise<Error | undefined>;
  /** Drops the connection. */
  close(): void;
}

/**
 * Wraps the engine's connection. `input` is the duplex socket of an upgraded
 * connection (stdin possible) or the body of a plain answer (no stdin).
 */
export function execStreams(source: Readable, input: Duplex | undefined, tty: boolean): ExecStreams {
  let stdout: PassThrough;
  let stderr: PassThrough | undefined;
  let sink: Writable;
  if (tty) {
    stdout = sink = new PassThrough();
  } else {
    const demuxer = new FrameDemuxer();
    ({ stdout, stderr } = demuxer);
    sink = demuxer;
  }
  source.pipe(sink);

  const ended = new Promise<Error | undefined>((resolve) => {
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      // pipe() ends the sink on 'end' only; after an error or an early close, end it here
      // so readers of stdout/stderr still see the output finish.
      if (!sink.writableEnded) sink.end();
      resolve(err);
    };
    source.once('end', () => settle(undefined));
    source.on('error', (err) => settle(err));
    if (input && input !== source) input.on('error', (err) => settle(err));
    source.once('close', () => settle(source.readableEnded ? undefined : new Error('the engine closed the connection')));
  });

  return {
    stdout,
    stderr,
    stdin: input ? socketWriter(input) : undefined,
    ended,
    close: () => {
      source.destroy();
      input?.destroy();
    },
  };
}

/**
 * The write side of the connection as its own Writable: end() half-closes the socket,
 * which the engine passes on to the command as EOF; input for a command that has
 * already gone is dropped rather than raising EPIPE.
 */
function socketWriter(socket: Duplex): Writable {
  const gone = () => socket.destroyed || socket.writableEnded;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (gone()) return callback();
      socket.write(chunk, () => callback());
    },
    final(callback) {
      if (!gone()) socket.end();
      callback();
    },
  });
}

/**
 * Splits the engine's multiplexed output into stdout and stderr as it arrives (frames
 * may straddle chunks), with backpressure: a reader that stops reading one of the
 * two holds the connection up, like a child process's pipes. A stream that turns out
 * not to be framed is passed to stdout as it is.
 */
export class FrameDemuxer extends Writable {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private readonly header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private target: PassThrough = this.stdout;
  private raw = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const blocked = new Set<PassThrough>();
    const emit = (out: PassThrough, data: Buffer) => {
      if (data.length === 0 || out.destroyed) return;
      if (!out.write(data)) blocked.add(out);
    };
    let i = 0;
    while (i < chunk.length) {
      if (this.raw) {
        emit(this.stdout, chunk.subarray(i));
        break;
      }
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        emit(this.target, chunk.subarray(i, i + n));
        this.remaining -= n;
        i += n;
        continue;
      }
      const n = Math.min(8 - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + n);
      this.headerFill += n;
      i += n;
      if (this.headerFill < 8) break;
      this.headerFill = 0;
      if (!framePrefix(this.header, 8)) {
        this.raw = true;
        emit(this.stdout, Buffer.from(this.header));
        continue;
      }
      // 0 is stdin echoed back (documented as written on stdout), 1 stdout, 2 stderr.
      this.target = this.header[0] === 2 ? this.stderr : this.stdout;
      this.remaining = this.header.readUInt32BE(4);
    }
    if (blocked.size === 0) return callback();
    let waiting = blocked.size;
    for (const out of blocked) {
      const go = () => {
        out.off('drain', go).off('close', go);
        if (--waiting === 0) callback();
      };
      out.on('drain', go).on('close', go);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A few bytes that cannot start a frame: unframed output shorter than a header.
    if (this.headerFill > 0 && !framePrefix(this.header, this.headerFill)) this.stdout.write(this.header.subarray(0, this.headerFill));
    this.stdout.end();
    this.stderr.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stdout.end();
    this.stderr.end();
    callback(error);
  }
}

/** Whether the first `length` bytes of `header` can begin a frame header. */
function framePrefix(header: Buffer, length: number): boolean {
  if ((header[0] ?? 0) > 2) return false;
  for (let i = 1; i < Math.min(length, 4); i++) if (header[i] !== 0) return false;
  return true;
}
