/**
 * Writes the frames of a stream of messages to an HTTP/2 stream in batches:
 * frames written in the same turn of the event loop go out as one write,
 * and a writer waits for "drain" once the stream's buffer is full, so a
 * slow reader slows the producer down instead of growing a buffer.
 */
import type { Http2Stream } from "node:http2";
import { COPY_LIMIT_BYTES, asBuffer, encodeFrame, framePrefix } from "./frames.js";

/** Frames are joined into one write up to this many bytes. */
const BATCH_BYTES = 16 * 1024;

/** Batches frames into few writes on one HTTP/2 stream, with backpressure. */
export class FrameWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private scheduled = false;
  private blocked = false;
  private closed = false;
  private waiting: (() => void) | undefined;

  constructor(private readonly stream: Http2Stream) {}

  /**
   * Queues a message, framed. Returns undefined when the producer may go on
   * at once, or a promise that resolves when the stream can take more (or
   * is closed). A large message is written at once after what is queued,
   * behind its prefix, without a copy. compressed: message is already
   * compressed, and its flag says so.
   */
  write(message: Uint8Array, compressed = false): Promise<void> | undefined {
    if (this.closed) return undefined;
    if (message.byteLength >= COPY_LIMIT_BYTES) {
      const stream = this.stream;
      stream.cork();
      this.flush();
      stream.write(framePrefix(message.byteLength, compressed));
      if (!stream.write(asBuffer(message))) this.block();
      stream.uncork();
    } else {
      const frame = encodeFrame(message, compressed);
      this.batch.push(frame);
      this.batchBytes += frame.byteLength;
      if (this.batchBytes >= BATCH_BYTES) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(flushLater, this);
      }
    }
    if (!this.blocked) return undefined;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Writes the queued frames now. */
  flush(): void {
    if (this.batchBytes === 0 || this.closed) return;
    const data = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    if (!this.stream.write(data)) this.block();
  }

  private block(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.stream.once("drain", onDrain.bind(this));
  }

  /** Writes the queued frames and ends the stream's writable side. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    const data = this.batchBytes === 0 ? undefined : this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    if (data === undefined) this.stream.end();
    else this.stream.end(data);
    this.release();
  }

  /** Drops what is queued and releases a waiting producer: the stream is gone. */
  close(): void {
    this.closed = true;
    this.batch = [];
    this.batchBytes = 0;
    this.release();
  }

  /** Flushes what a turn of the event loop queued. @internal */
  tick(): void {
    this.scheduled = false;
    this.flush();
  }

  /** Lets a producer waiting for drain go on. @internal */
  release(): void {
    this.blocked = false;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

function flushLater(writer: FrameWriter): void {
  writer.tick();
}

function onDrain(this: FrameWriter): void {
  this.release();
}
