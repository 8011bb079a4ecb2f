/**
 * A queue between producers running concurrently and one async consumer:
 * what a pull's downloads report, in the order they report it.
 */

/** A queue of values with an end. */
export class EventChannel<T> {
  private readonly values: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  /** Queues a value. */
  push(value: T): void {
    this.values.push(value);
    this.wake?.();
  }

  /** Ends the channel, with an error to throw to the consumer when given. */
  end(error?: { error: unknown }): void {
    this.ended = true;
    this.failure = error;
    this.wake?.();
  }

  /** Yields values until the end. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.values.length > 0) yield this.values.shift()!;
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
