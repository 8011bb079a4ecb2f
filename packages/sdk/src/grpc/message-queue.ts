/**
 * The messages of an incoming stream, handed to one reader as an async
 * iterable, with backpressure: past a number of queued messages or bytes
 * the source is paused, and resumed once the reader has taken the queue
 * down to half of both.
 */

const EMPTY = new Uint8Array(0);

/** What the queue tells its source. */
export interface QueueSource {
  /** Stop delivering: the reader is behind. */
  pause(): void;
  /** Deliver again. */
  resume(): void;
  /** The reader stopped early (return() or break): cancel the stream. */
  cancel(): void;
}

/** Queued messages past which the source is paused. */
const HIGH_WATER_MESSAGES = 32;
/** Queued bytes past which the source is paused. */
const HIGH_WATER_BYTES = 256 * 1024;

/**
 * A single-reader queue of encoded messages fed by push() and closed by
 * end(). Messages are decoded by decode when the reader takes them, so a
 * message that does not parse fails the read at its place in the stream;
 * decode also learns whether the message arrived compressed.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  private items: Uint8Array[] = [];
  /** Whether each queued message arrived compressed, in step with items. */
  private compressed: boolean[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  private done = false;
  private error: unknown = undefined;
  private waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly decode: (raw: Uint8Array, compressed: boolean) => T,
    private readonly source: QueueSource,
  ) {}

  /** Queues a message, or hands it to a waiting reader; compressed: it arrived compressed. */
  push(raw: Uint8Array, compressed = false): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter !== undefined && this.head === this.items.length) {
      this.waiter = undefined;
      let value: T;
      try {
        value = this.decode(raw, compressed);
      } catch (error) {
        this.fail();
        waiter.reject(error);
        return;
      }
      waiter.resolve({ value, done: false });
      return;
    }
    this.items.push(raw);
    this.compressed.push(compressed);
    this.bytes += raw.byteLength;
    if (!this.paused && (this.items.length - this.head >= HIGH_WATER_MESSAGES || this.bytes >= HIGH_WATER_BYTES)) {
      this.paused = true;
      this.source.pause();
    }
  }

  /** Ends the stream after the queued messages, with error if given. */
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    const waiter = this.waiter;
    if (waiter === undefined || this.head < this.items.length) return;
    this.waiter = undefined;
    if (error === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(error);
  }

  /** Whether end() was called. */
  get ended(): boolean {
    return this.done;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const raw = this.items[this.head]!;
      const compressed = this.compressed[this.head]!;
      this.items[this.head++] = EMPTY;
      this.bytes -= raw.byteLength;
      if (this.head === this.items.length) {
        this.items = [];
        this.compressed = [];
        this.head = 0;
      }
      if (this.paused && this.items.length - this.head <= HIGH_WATER_MESSAGES / 2 && this.bytes <= HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.source.resume();
      }
      try {
        return Promise.resolve({ value: this.decode(raw, compressed), done: false });
      } catch (error) {
        this.fail();
        return Promise.reject(error);
      }
    }
    if (this.done) {
      if (this.error === undefined) return Promise.resolve({ value: undefined, done: true });
      const error = this.error;
      this.error = undefined;
      // Report the error once; afterwards the iterator is simply done.
      return Promise.reject(error);
    }
    if (this.waiter !== undefined) return Promise.reject(new Error("MessageQueue: next() called while a read is pending"));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) this.fail();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Drops whatever is queued, ends the queue and cancels the source (the reader failed or stopped). */
  private fail(): void {
    this.done = true;
    this.error = undefined;
    this.items = [];
    this.compressed = [];
    this.head = 0;
    this.bytes = 0;
    this.source.cancel();
  }
}
