/**
 * The changes an engine's callbacks hand to a relay's watch stream: pushed
 * as they come, drained by one async generator, which ends when the call's
 * signal aborts and throws what the engine failed with.
 */
export class ChangeQueue<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  /** Queues one change. */
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** Ends the drain with error, after what is queued. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake?.();
  }

  /** Yields every change in order until the signal aborts. */
  async *drain(): AsyncGenerator<T> {
    while (!this.signal.aborted) {
      if (this.items.length > 0) {
        const batch = this.items;
        this.items = [];
        yield* batch;
        continue;
      }
      if (this.failure) throw this.failure.error;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
