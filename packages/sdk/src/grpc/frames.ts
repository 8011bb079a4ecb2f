/**
 * gRPC's length-prefixed messages: a 1-byte flag (bit 0: compressed), a
 * 4-byte big-endian length, then the message. Encoding makes one buffer per
 * message; decoding reassembles messages split over any number of HTTP/2
 * DATA chunks and enforces a size limit as soon as a prefix is read.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Decompress } from "./compression.js";

/** The size of the prefix before each message: flag and length. */
export const FRAME_PREFIX_BYTES = 5;

/** The flag bit that marks a compressed message. */
export const FLAG_COMPRESSED = 0b1;

/** Prefixes message with its flag (compressed or not) and its length, in one new buffer. */
export function encodeFrame(message: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + message.byteLength);
  frame[0] = compressed ? FLAG_COMPRESSED : 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, FRAME_PREFIX_BYTES);
  return frame;
}

/** Messages this large or larger are written after their prefix instead of being copied behind it. */
export const COPY_LIMIT_BYTES = 8 * 1024;

/** The 5-byte prefix of a message of length bytes. */
export function framePrefix(length: number, compressed = false): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_PREFIX_BYTES);
  prefix[0] = compressed ? FLAG_COMPRESSED : 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/** A Buffer over the same memory as bytes. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes one message as the last thing on stream's writable side: a small
 * one copied behind its prefix in one buffer, a large one written after its
 * prefix as it is (one writev, no copy).
 */
export function endWithMessage(stream: NodeJS.WritableStream & { cork(): void }, message: Uint8Array, compressed = false): void {
  if (message.byteLength < COPY_LIMIT_BYTES) {
    stream.end(encodeFrame(message, compressed));
    return;
  }
  stream.cork();
  stream.write(framePrefix(message.byteLength, compressed));
  // end() uncorks: both buffers go out in one writev.
  stream.end(asBuffer(message));
}

/** The RESOURCE_EXHAUSTED error of a message over a limit, worded as connect words it. */
export function messageTooLarge(size: number, limit: number, direction: "readMaxBytes" | "writeMaxBytes"): ConnectError {
  return new ConnectError(`message size ${size} is larger than configured ${direction} ${limit}`, Code.ResourceExhausted);
}

/** The pending chunks while there are none; never pushed to (push happens only with pending bytes). */
const NO_CHUNKS: Buffer[] = [];

/** Where a FrameReader puts the messages it reads. */
export interface MessageSink {
  /** Takes one whole message, inflated if it arrived compressed; may throw to stop the reader. */
  message(bytes: Uint8Array, compressed: boolean): void;
}

/**
 * Reads length-prefixed messages out of a byte stream fed chunk by chunk.
 * push() hands the messages completed by a chunk to the sink; a message
 * that fits in one chunk is passed as a view of it, with no copy. A
 * compressed message is inflated with the decompressor of the negotiated
 * encoding, the limit applying to its inflated size. A compressed flag with
 * no encoding negotiated, or a message of more than maxBytes, throws a
 * ConnectError (INTERNAL, RESOURCE_EXHAUSTED) and stops the reader.
 */
export class FrameReader {
  /** Bytes of an incomplete frame, waiting for more chunks. */
  private pending: Buffer[] = NO_CHUNKS;
  private pendingBytes = 0;
  /** The length of the message being assembled, once its prefix is known; -1 before. */
  private expected = -1;
  /** Whether the message being assembled is compressed. */
  private compressed = false;
  private failed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: MessageSink,
    private decompress: Decompress | undefined = undefined,
  ) {}

  /** Reads compressed messages with decompress from now on: the peer's grpc-encoding arrived. */
  setDecompressor(decompress: Decompress | undefined): void {
    this.decompress = decompress;
  }

  /** True when no partial frame is waiting: the stream may end here. */
  get atBoundary(): boolean {
    return this.pendingBytes === 0;
  }

  /** Consumes one chunk; hands every message it completes to the sink. */
  push(chunk: Buffer): void {
    if (this.failed) return;
    let data = chunk;
    if (this.pendingBytes > 0) {
      // Only join what is needed: the prefix first, then the message.
      this.pending.push(chunk);
      this.pendingBytes += chunk.byteLength;
      const need = this.expected < 0 ? FRAME_PREFIX_BYTES : FRAME_PREFIX_BYTES + this.expected;
      if (this.expected < 0 && this.pendingBytes >= FRAME_PREFIX_BYTES) {
        data = this.join();
        this.readPrefix(data, 0);
        if (this.failed) return;
        if (data.byteLength < FRAME_PREFIX_BYTES + this.expected) {
          this.pending = [data];
          this.pendingBytes = data.byteLength;
          return;
        }
      } else if (this.pendingBytes < need) {
        return;
      } else {
        data = this.join();
      }
    }
    let offset = 0;
    const length = data.byteLength;
    while (length - offset >= FRAME_PREFIX_BYTES) {
      if (this.expected < 0) this.readPrefix(data, offset);
      if (this.failed) return;
      const end = offset + FRAME_PREFIX_BYTES + this.expected;
      if (end > length) break;
      // A plain Uint8Array view, not a Buffer: bytes fields decoded from it are
      // views of it, and must behave as Uint8Array (slice() copies) as with connect.
      let message = new Uint8Array(data.buffer, data.byteOffset + offset + FRAME_PREFIX_BYTES, this.expected);
      this.expected = -1;
      offset = end;
      const compressed = this.compressed;
      if (compressed) message = this.inflate(message);
      this.sink.message(message, compressed);
      if (this.failed) return;
    }
    if (offset < length) {
      const rest = offset === 0 ? data : data.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.byteLength;
    } else {
      this.pending = NO_CHUNKS;
      this.pendingBytes = 0;
    }
  }

  /** Stops the reader: later chunks are ignored. */
  stop(): void {
    this.failed = true;
    this.pending = NO_CHUNKS;
    this.pendingBytes = 0;
  }

  private join(): Buffer {
    const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = NO_CHUNKS;
    this.pendingBytes = 0;
    return joined;
  }

  /** The inflated message, as a plain Uint8Array; stops the reader when it fails. */
  private inflate(message: Uint8Array): Uint8Array {
    try {
      const inflated = this.decompress!(message, this.maxBytes);
      return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  private readPrefix(data: Buffer, offset: number): void {
    const flags = data[offset]!;
    const size = data.readUInt32BE(offset + 1);
    this.compressed = flags === FLAG_COMPRESSED;
    if (flags !== 0 && (flags !== FLAG_COMPRESSED || this.decompress === undefined)) {
      this.stop();
      if (flags === FLAG_COMPRESSED) throw new ConnectError("protocol error: received a compressed message, but no compression was negotiated", Code.Internal);
      // gRPC defines the flag byte as 0 or 1; grpc-go refuses other values too.
      throw new ConnectError(`protocol error: invalid message flags 0x${flags.toString(16).padStart(2, "0")}`, Code.Internal);
    }
    if (size > this.maxBytes) {
      this.stop();
      throw messageTooLarge(size, this.maxBytes, "readMaxBytes");
    }
    this.expected = size;
  }
}
