/**
 * The kept output of a process, as its shim writes it (see shim-script.ts):
 * per stream a current file and at most one older one (NAME.log and
 * NAME.log.1), each a sequence of records: a 24-byte header (seq u64le,
 * time in microseconds u64le, length u32le, stream u8, 3 zero bytes) and
 * 1 to 32768 bytes of output. seq counts the records of both streams of the
 * process in the order the shim read them from the pipes.
 *
 * ProcessLogReader reads one or both streams of a process incrementally,
 * across the shim's rotations, and hands out records in seq order: with two
 * streams it releases a record only once every record with a smaller seq has
 * been read (see poll), so the interleaving is exactly the shim's.
 */
import { open, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";

/** The bytes of a record header. */
export const HEADER_BYTES = 24;
/** The most output bytes in one record. */
export const MAX_RECORD_DATA = 32768;
/** How much of a file is read at once. */
const READ_CHUNK = 256 * 1024;

/** A stream: 1 for stdout, 2 for stderr (the values of LogStream). */
export type StreamNumber = 1 | 2;

/** One record of output. */
export interface LogRecord {
  seq: number;
  /** When the shim read the bytes, in microseconds since the epoch. */
  timeUs: number;
  stream: StreamNumber;
  data: Buffer;
}

/** The current file of a stream. */
export function streamFile(stream: StreamNumber): string {
  return stream === 1 ? "stdout.log" : "stderr.log";
}

/** Encodes a record as the shim writes it (for tests). */
export function encodeRecord(record: LogRecord): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeBigUInt64LE(BigInt(record.seq), 0);
  header.writeBigUInt64LE(BigInt(record.timeUs), 8);
  header.writeUInt32LE(record.data.byteLength, 16);
  header.writeUInt8(record.stream, 20);
  return Buffer.concat([header, record.data]);
}

interface Segment {
  handle: FileHandle;
  ino: number;
  pos: number;
  /** A bad record was met: nothing more is read from this segment. */
  broken: boolean;
}

async function openSegment(path: string): Promise<Segment | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const info = await handle.stat();
  return { handle, ino: info.ino, pos: 0, broken: false };
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads one stream of a process incrementally, following the shim's rotations. */
export class StreamReader {
  /** Open files, oldest first; the last is the newest known. */
  private segments: Segment[] = [];
  private opened = false;
  /** The highest seq read from this stream; -1 before any. */
  lastSeq = -1;

  constructor(
    private readonly dir: string,
    readonly stream: StreamNumber,
  ) {}

  private get path(): string {
    return join(this.dir, streamFile(this.stream));
  }

  private async open(): Promise<void> {
    this.opened = true;
    // The current file first, then the older one: a rotation in between
    // makes them the same file, which is then read once.
    const current = await openSegment(this.path);
    const older = await openSegment(`${this.path}.1`);
    if (older !== undefined && current !== undefined && older.ino === current.ino) await older.handle.close();
    else if (older !== undefined) this.segments.push(older);
    if (current !== undefined) this.segments.push(current);
  }

  /**
   * Reads the complete records not read yet, about maxBytes at most.
   * atEnd: everything the shim had finished writing to this stream when the
   * end was seen has been read (false when the budget stopped the read).
   */
  async read(maxBytes: number): Promise<{ records: LogRecord[]; atEnd: boolean }> {
    if (!this.opened) await this.open();
    const records: LogRecord[] = [];
    let budget = maxBytes;
    for (;;) {
      if (this.segments.length === 0) {
        const current = await openSegment(this.path);
        if (current === undefined) return { records, atEnd: true };
        this.segments.push(current);
      }
      const segment = this.segments[0]!;
      const read = await this.readSegment(segment, records, budget);
      budget -= read;
      if (budget <= 0) return { records, atEnd: false };
      if (this.segments.length > 1) {
        // A newer file exists, so this one is complete and read to its end.
        await segment.handle.close();
        this.segments.shift();
        continue;
      }
      const ino = await inodeOf(this.path);
      if (ino === undefined || ino === segment.ino) return { records, atEnd: true };
      // Rotated since opened: finish this file, then read any file rotated in
      // between (a second rotation), then the new current file.
      await this.readSegment(segment, records, Number.MAX_SAFE_INTEGER);
      const olderIno = await inodeOf(`${this.path}.1`);
      if (olderIno !== undefined && olderIno !== segment.ino && olderIno !== ino) {
        const between = await openSegment(`${this.path}.1`);
        if (between !== undefined && between.ino !== segment.ino && between.ino !== ino) this.segments.push(between);
        else await between?.handle.close();
      }
      const current = await openSegment(this.path);
      if (current !== undefined) this.segments.push(current);
      await segment.handle.close();
      this.segments.shift();
    }
  }

  /** Reads complete records of segment into records, up to about budget bytes; returns the bytes consumed. */
  private async readSegment(segment: Segment, records: LogRecord[], budget: number): Promise<number> {
    let consumed = 0;
    while (!segment.broken && consumed < budget) {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await segment.handle.read(buffer, 0, READ_CHUNK, segment.pos);
      let offset = 0;
      while (offset + HEADER_BYTES <= bytesRead) {
        const length = buffer.readUInt32LE(offset + 16);
        const stream = buffer.readUInt8(offset + 20);
        if (length === 0 || length > MAX_RECORD_DATA || (stream !== 1 && stream !== 2)) {
          segment.broken = true;
          break;
        }
        if (offset + HEADER_BYTES + length > bytesRead) break;
        const seq = Number(buffer.readBigUInt64LE(offset));
        if (seq > this.lastSeq) {
          records.push({
            seq,
            timeUs: Number(buffer.readBigUInt64LE(offset + 8)),
            stream: stream as StreamNumber,
            data: Buffer.from(buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)),
          });
          this.lastSeq = seq;
        }
        offset += HEADER_BYTES + length;
      }
      segment.pos += offset;
      consumed += offset;
      if (offset === 0 || bytesRead < READ_CHUNK) break;
    }
    return consumed;
  }

  /** Closes the open files. */
  async close(): Promise<void> {
    const segments = this.segments.splice(0);
    await Promise.all(segments.map((segment) => segment.handle.close().catch(() => {})));
  }
}

/** Reads the selected streams of a process and releases their records in seq order. */
export class ProcessLogReader {
  private readonly readers: StreamReader[];
  private pending: LogRecord[] = [];
  private maxSeen = -1;

  constructor(dir: string, streams: StreamNumber[]) {
    this.readers = streams.map((stream) => new StreamReader(dir, stream));
  }

  /**
   * Reads what is new in every stream (about maxBytes per stream) and
   * returns the records now known to come before any record not read yet,
   * in seq order. caughtUp: every stream was read to its end.
   *
   * With two streams A and B, read as A, B, A: after a read of a stream that
   * reached its end, every record the shim had written before that moment is
   * read, in that stream or (from earlier reads) in the other, so every seq
   * up to the highest seen so far is accounted for in it; a read that did
   * not reach the end accounts for the seqs up to its stream's last. The
   * records up to the lowest of the two bounds are released.
   */
  async poll(maxBytes = 1024 * 1024): Promise<{ records: LogRecord[]; caughtUp: boolean }> {
    const order = this.readers.length === 2 ? [this.readers[0]!, this.readers[1]!, this.readers[0]!] : this.readers;
    const bounds = new Map<StreamReader, number>();
    const atEnd = new Map<StreamReader, boolean>();
    for (const reader of order) {
      const read = await reader.read(maxBytes);
      for (const record of read.records) {
        this.pending.push(record);
        if (record.seq > this.maxSeen) this.maxSeen = record.seq;
      }
      bounds.set(reader, read.atEnd ? this.maxSeen : reader.lastSeq);
      atEnd.set(reader, read.atEnd);
    }
    const caughtUp = [...atEnd.values()].every(Boolean);
    this.pending.sort((a, b) => a.seq - b.seq);
    if (this.readers.length < 2) return { records: this.pending.splice(0), caughtUp };
    const bound = Math.min(...bounds.values());
    let count = 0;
    while (count < this.pending.length && this.pending[count]!.seq <= bound) count++;
    return { records: this.pending.splice(0, count), caughtUp };
  }

  /** The records read but held back; for when the shim has written everything. */
  takeHeld(): LogRecord[] {
    return this.pending.splice(0);
  }

  /** Closes every file. */
  async close(): Promise<void> {
    await Promise.all(this.readers.map((reader) => reader.close()));
  }
}

/** Counts the "\n" bytes of data. */
function newlines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(10); at >= 0; at = data.indexOf(10, at + 1)) count++;
  return count;
}

/**
 * Keeps the records that hold the last `lines` lines of what is pushed (a
 * line ends with "\n"; a last unterminated line counts as one), dropping
 * older records as it goes so that memory stays bounded by those lines.
 */
export class TailWindow {
  private readonly kept: { record: LogRecord; newlines: number }[] = [];
  /** The newlines of every kept record but the first. */
  private newlinesAfterFirst = 0;

  constructor(private readonly lines: number) {}

  push(record: LogRecord): void {
    if (this.lines === 0) return;
    const count = newlines(record.data);
    if (this.kept.length > 0) this.newlinesAfterFirst += count;
    this.kept.push({ record, newlines: count });
    // The tail starts after at most the (lines + 1)th newline from the end,
    // so the first record can go once the others hold that many.
    while (this.kept.length > 1 && this.newlinesAfterFirst >= this.lines + 1) {
      this.kept.shift();
      this.newlinesAfterFirst -= this.kept[0]!.newlines;
    }
  }

  /** The records of the tail, the first cut to start at the beginning of a line. */
  records(): LogRecord[] {
    if (this.lines === 0 || this.kept.length === 0) return [];
    const last = this.kept.at(-1)!.record.data;
    const terminated = last[last.byteLength - 1] === 10;
    // Start after the k-th newline from the end.
    let remaining = terminated ? this.lines + 1 : this.lines;
    for (let index = this.kept.length - 1; index >= 0; index--) {
      const { record } = this.kept[index]!;
      let at = record.data.byteLength;
      for (;;) {
        at = at === 0 ? -1 : record.data.lastIndexOf(10, at - 1);
        if (at < 0) break;
        remaining--;
        if (remaining === 0) {
          const first = { ...record, data: record.data.subarray(at + 1) };
          const rest = this.kept.slice(index + 1).map((entry) => entry.record);
          return first.data.byteLength > 0 ? [first, ...rest] : rest;
        }
      }
    }
    return this.kept.map((entry) => entry.record);
  }
}
