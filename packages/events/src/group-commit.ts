/**
 * Group commit: every Publish that arrives while the log is busy waits for
 * the next commit, and all of them are written in one durable transaction,
 * then acknowledged together and handed to the subscribers in order.
 */
import type { Appended, EventLog, NewEvent, StoredEvent } from "./event-log.js";

interface Pending {
  event: NewEvent;
  resolve: (appended: Appended) => void;
  reject: (error: unknown) => void;
}

/** Batches appends to an event log. */
export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly log: EventLog,
    private readonly committed: (events: StoredEvent[]) => void,
  ) {}

  /** Appends event with the next commit; resolves once it is durable. */
  append(event: NewEvent): Promise<Appended> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private commit(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    let results: Appended[];
    try {
      // Throws only when the transaction rolled back: nothing of the batch is durable. Retention
      // after the commit reports its own failures and never fails a committed batch.
      results = this.log.append(batch.map((p) => p.event), Date.now());
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    // Committed: every publisher is acknowledged and every live subscriber told, in order.
    batch.forEach((p, i) => p.resolve(results[i]!));
    const fresh = results.filter((r) => !r.duplicate).map((r) => r.event);
    if (fresh.length > 0) this.committed(fresh);
  }
}
