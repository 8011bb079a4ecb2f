/**
 * A fixed-size ring of the newest values: pushing past the capacity drops
 * the oldest. What the dashboard keeps of each chart series, so that a page
 * opened later shows the history.
 */

/** The newest `capacity` values pushed, oldest first. */
export class RingBuffer<T> {
  readonly #slots: (T | undefined)[];
  #next = 0;
  #size = 0;

  /** A ring of capacity slots (a whole number, 1 or more). */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity: ${capacity} is not a whole number of 1 or more`);
    this.#slots = new Array<T | undefined>(capacity);
  }

  /** How many values the ring holds, up to its capacity. */
  get size(): number {
    return this.#size;
  }

  /** Adds value as the newest, dropping the oldest when the ring is full. */
  push(value: T): void {
    this.#slots[this.#next] = value;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The newest value, undefined when empty. */
  newest(): T | undefined {
    return this.#size === 0 ? undefined : this.#slots[(this.#next - 1 + this.capacity) % this.capacity];
  }

  /** The newest `limit` values (all when limit is undefined or 0), oldest first. */
  toArray(limit?: number): T[] {
    const count = limit === undefined || limit === 0 ? this.#size : Math.min(limit, this.#size);
    const out: T[] = [];
    for (let i = count; i > 0; i--) out.push(this.#slots[(this.#next - i + this.capacity) % this.capacity] as T);
    return out;
  }
}
