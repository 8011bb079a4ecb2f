/**
 * The event log's group commit: every Publish that arrives while the log is
 * busy waits for the next commit, and all of them are written in one
 * durable transaction (the SDK's GroupCommit), then acknowledged together
 * and handed to the subscribers in order.
 */
import { GroupCommit } from "@moby-core/sdk";
import type { Appended, NewEvent, StoredEvent } from "./event-log.js";
import type { SqliteLog } from "./sqlite-log.js";

/** Batches appends to log; committed gets the events each commit stored (duplicates left out), in order. */
export function eventCommits(log: SqliteLog, committed: (events: StoredEvent[]) => void): GroupCommit<NewEvent, Appended> {
  return new GroupCommit<NewEvent, Appended>((events) => {
    // Throws only when the transaction rolled back: nothing of the batch is durable. Retention
    // after the commit reports its own failures and never fails a committed batch.
    const results = log.appendBatch(events, Date.now());
    const fresh = results.filter((r) => !r.duplicate).map((r) => r.event);
    if (fresh.length > 0) committed(fresh);
    return results.map((value) => ({ value }));
  });
}
