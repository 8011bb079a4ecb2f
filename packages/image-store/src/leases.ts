/**
 * Leases: the content and snapshots a pull, import or unpack in progress is
 * using and no image names yet. Garbage collection keeps whatever a lease
 * holds.
 */

/** The in-memory set of held digests and chain ids, counted. */
export class Leases {
  private readonly held = new Map<string, number>();

  /** Holds keys until the returned lease is released. */
  acquire(): Lease {
    return new Lease(this.held);
  }

  /** Whether any lease holds key. */
  has(key: string): boolean {
    return this.held.has(key);
  }
}

/** One holder's keys. */
export class Lease {
  private readonly keys = new Set<string>();

  constructor(private readonly held: Map<string, number>) {}

  /** Adds keys to this lease. */
  add(...keys: string[]): void {
    for (const key of keys) {
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      this.held.set(key, (this.held.get(key) ?? 0) + 1);
    }
  }

  /** Lets go of every key. */
  release(): void {
    for (const key of this.keys) {
      const count = (this.held.get(key) ?? 1) - 1;
      if (count === 0) this.held.delete(key);
      else this.held.set(key, count);
    }
    this.keys.clear();
  }
}
