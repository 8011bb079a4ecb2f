/**
 * The events component's embedded log, the default backend: SQLite in WAL
 * mode with a full sync on every commit (group commit batches the publishes
 * that arrive meanwhile), sequence numbers that are never reused, the publish
 * ids seen in the last 24 hours, and retention by count, size and age.
 */
import { ensurePrivateDirectory } from "@moby-core/sdk";
import { dirname } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EnvelopeSchema } from "@moby-core/events-api/v1";
import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import type { GroupCommit } from "@moby-core/sdk";
import { PUBLISH_ID_MEMORY_MS } from "./event-log.js";
import type { Appended, CommitListener, EventLog, LogStatus, NewEvent, ReplayReader, Retention, StoredEvent } from "./event-log.js";
import { eventCommits } from "./group-commit.js";

/** Called with the error when retention could not be applied after a commit; the commit stands. */
export type RetentionErrorReporter = (error: unknown) => void;

/** Writes a retention failure to standard error: the reporter of a log given none. */
function reportOnStderr(error: unknown): void {
  console.error(`events: retention could not be applied after a commit (the events are durable; retried with the next commit): ${String(error)}`);
}

/** The schema version this code reads and writes. */
const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE events (
      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
      time_ms INTEGER NOT NULL,
      source TEXT NOT NULL,
      topic TEXT NOT NULL,
      type_url TEXT NOT NULL,
      value BLOB NOT NULL,
      size INTEGER NOT NULL
    );
    CREATE TABLE publish_ids (
      source TEXT NOT NULL,
      publish_id TEXT NOT NULL,
      sequence INTEGER NOT NULL,
      time_ms INTEGER NOT NULL,
      PRIMARY KEY (source, publish_id)
    ) WITHOUT ROWID;
    CREATE INDEX publish_ids_by_time ON publish_ids (time_ms);
  `,
};

/** The bytes an event counts for in retention: the size of its serialized Envelope. */
function weight(event: NewEvent, sequence: bigint, timeMs: number): number {
  return toBinary(
    EnvelopeSchema,
    create(EnvelopeSchema, { sequence, timestamp: timestampFromMs(timeMs), source: event.source, topic: event.topic, event: { typeUrl: event.typeUrl, value: event.value } }),
  ).byteLength;
}

interface Row {
  sequence: bigint;
  time_ms: number;
  source: string;
  topic: string;
  type_url: string;
  value: Buffer;
}

function fromRow(row: Row): StoredEvent {
  return { sequence: row.sequence, timeMs: Number(row.time_ms), source: row.source, topic: row.topic, typeUrl: row.type_url, value: new Uint8Array(row.value) };
}

/** The log of one events component in one SQLite file. */
export class SqliteLog implements EventLog {
  private readonly db: SqliteDatabase;
  private readonly insert: Statement;
  private readonly setSize: Statement;
  private readonly findPublishId: Statement;
  private readonly rememberPublishId: Statement;
  private readonly readAfter: Statement;
  private readonly firstSequence: Statement;
  private readonly highWater: Statement;
  private readonly firstYoung: Statement;
  private readonly prefixTotals: Statement;
  private readonly deletePrefix: Statement;
  private readonly forgetPublishIds: Statement;
  private count = 0;
  private bytes = 0;
  private listener: CommitListener | undefined;
  /** The group commit of appends: one transaction and one fsync per batch. */
  readonly commits: GroupCommit<NewEvent, Appended>;

  /**
   * Opens (or creates) the log at path. onRetentionError is told when
   * dropping old events after a commit failed: the commit stands, and the
   * next commit or expiry tries again.
   */
  constructor(
    path: string,
    public retention: Retention,
    private readonly onRetentionError: RetentionErrorReporter = reportOnStderr,
  ) {
    ensurePrivateDirectory(dirname(path), "state directory");
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.defaultSafeIntegers(true);
    this.migrate();
    this.insert = this.db.prepare("INSERT INTO events (time_ms, source, topic, type_url, value, size) VALUES (?, ?, ?, ?, ?, ?)");
    this.setSize = this.db.prepare("UPDATE events SET size = ? WHERE sequence = ?");
    this.findPublishId = this.db.prepare("SELECT sequence, time_ms FROM publish_ids WHERE source = ? AND publish_id = ?");
    this.rememberPublishId = this.db.prepare("INSERT INTO publish_ids (source, publish_id, sequence, time_ms) VALUES (?, ?, ?, ?)");
    this.readAfter = this.db.prepare("SELECT sequence, time_ms, source, topic, type_url, value FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?");
    this.firstSequence = this.db.prepare("SELECT MIN(sequence) AS first FROM events");
    this.highWater = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    // Walks the log in sequence order and stops at the first event young enough to keep.
    this.firstYoung = this.db.prepare("SELECT sequence FROM events WHERE time_ms >= ? ORDER BY sequence LIMIT 1");
    this.prefixTotals = this.db.prepare("SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM events WHERE sequence < ?");
    this.deletePrefix = this.db.prepare("DELETE FROM events WHERE sequence < ?");
    this.forgetPublishIds = this.db.prepare("DELETE FROM publish_ids WHERE time_ms < ?");
    const totals = this.db.prepare("SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM events").get() as { count: bigint; bytes: bigint };
    this.count = Number(totals.count);
    this.bytes = Number(totals.bytes);
    // Subscribers hear of a commit on the next turn, not in the commit's: the publishers' answers go
    // out first. setImmediate is FIFO, so the commits reach them in order.
    this.commits = eventCommits(this, (events) => setImmediate(() => this.listener?.(events)));
  }

  private migrate(): void {
    const current = Number(this.db.pragma("user_version", { simple: true }));
    if (current > SCHEMA_VERSION) {
      throw new Error(`the events database has schema version ${current}, newer than this component's ${SCHEMA_VERSION}`);
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version}`);
      })();
    }
  }

  /**
   * Appends events in one durable transaction, in order; repeats of a
   * remembered publish id record nothing. Then drops what the count and size
   * bounds no longer allow; a failure to do so goes to the retention error
   * reporter and does not fail the append, whose events are durable.
   */
  appendBatch(events: NewEvent[], nowMs: number): Appended[] {
    let added = 0;
    let addedBytes = 0;
    const results = this.db.transaction(() => {
      added = 0;
      addedBytes = 0;
      return events.map((event): Appended => {
        if (event.publishId !== "") {
          // The pair is remembered even when retention dropped the event itself.
          const seen = this.findPublishId.get(event.source, event.publishId) as { sequence: bigint; time_ms: bigint } | undefined;
          if (seen !== undefined) {
            const first = { sequence: seen.sequence, timeMs: Number(seen.time_ms), source: event.source, topic: event.topic, typeUrl: event.typeUrl, value: event.value };
            return { event: first, duplicate: true };
          }
        }
        const { lastInsertRowid } = this.insert.run(nowMs, event.source, event.topic, event.typeUrl, event.value, 0);
        const sequence = BigInt(lastInsertRowid);
        const size = weight(event, sequence, nowMs);
        this.setSize.run(size, sequence);
        if (event.publishId !== "") this.rememberPublishId.run(event.source, event.publishId, sequence, nowMs);
        added++;
        addedBytes += size;
        return { event: { sequence, timeMs: nowMs, source: event.source, topic: event.topic, typeUrl: event.typeUrl, value: event.value }, duplicate: false };
      });
    })();
    // Only once the transaction committed: a rolled-back one must not move the counters.
    this.count += added;
    this.bytes += addedBytes;
    try {
      this.enforceBounds();
    } catch (error) {
      this.onRetentionError(error);
    }
    return results;
  }

  /** Up to limit events with a sequence greater than after, in order. */
  read(after: bigint, limit: number): StoredEvent[] {
    return (this.readAfter.all(after, limit) as Row[]).map(fromRow);
  }

  /** The highest sequence ever assigned; 0 before the first event. */
  latest(): bigint {
    const row = this.highWater.get() as { seq: bigint } | undefined;
    return row === undefined ? 0n : BigInt(row.seq);
  }

  /** The lowest retained sequence; latest() + 1 when the log holds nothing. */
  oldest(): bigint {
    const row = this.firstSequence.get() as { first: bigint | null };
    return row.first === null ? this.latest() + 1n : BigInt(row.first);
  }

  /** How many events retention deleted (by count, size or age) since the log was opened. */
  deleted = 0;

  /** How many events and bytes the log holds. */
  size(): { events: number; bytes: number } {
    return { events: this.count, bytes: this.bytes };
  }

  /** Drops the oldest events past the count and size bounds. */
  private enforceBounds(): void {
    for (;;) {
      const { maxEvents, maxBytes } = this.retention;
      const overCount = maxEvents > 0 ? this.count - maxEvents : 0;
      if (overCount <= 0 && (maxBytes === 0 || this.bytes <= maxBytes)) return;
      const { dropped, freed } = this.db.transaction(() => {
        let dropped = 0;
        let freed = 0;
        const oldest = this.db.prepare("SELECT sequence, size FROM events ORDER BY sequence LIMIT ?").iterate(Math.max(overCount, 1) + 1000) as Iterable<{ sequence: bigint; size: bigint }>;
        let cutoff = 0n;
        for (const row of oldest) {
          if (dropped >= overCount && (maxBytes === 0 || this.bytes - freed <= maxBytes)) break;
          dropped++;
          freed += Number(row.size);
          cutoff = row.sequence;
        }
        this.db.prepare("DELETE FROM events WHERE sequence <= ?").run(cutoff);
        return { dropped, freed };
      })();
      // Only once the deletion committed: a rolled-back one must not move the counters.
      this.count -= dropped;
      this.bytes -= freed;
      this.deleted += dropped;
      if (dropped === 0) return;
    }
  }

  /**
   * Drops the events older than the age bound and forgets publish ids older
   * than a day. Only a prefix of the log is dropped: up to the first event
   * still young enough to keep. After the wall clock stepped back, a later
   * event can carry an older time than one before it; it is kept until the
   * events before it expire, so the log stays contiguous from oldest() and a
   * replay never skips an event.
   */
  expire(nowMs: number): void {
    let removed = { count: 0, bytes: 0 };
    this.db.transaction(() => {
      removed = { count: 0, bytes: 0 };
      if (this.retention.maxAgeMs > 0) {
        const young = this.firstYoung.get(nowMs - this.retention.maxAgeMs) as { sequence: bigint } | undefined;
        const end = young === undefined ? this.latest() + 1n : young.sequence;
        if (end > this.oldest()) {
          const totals = this.prefixTotals.get(end) as { count: bigint; bytes: bigint };
          this.deletePrefix.run(end);
          removed = { count: Number(totals.count), bytes: Number(totals.bytes) };
        }
      }
      this.forgetPublishIds.run(nowMs - PUBLISH_ID_MEMORY_MS);
    })();
    // Only once the deletion committed: a rolled-back one must not move the counters.
    this.count -= removed.count;
    this.bytes -= removed.bytes;
    this.deleted += removed.count;
    this.enforceBounds();
  }

  /** Appends one event with the others of its turn, in one durable transaction. */
  append(event: NewEvent): Promise<Appended> {
    return this.commits.add(event);
  }

  /** The bounds and size of the log, read from the database. */
  status(): Promise<LogStatus> {
    return Promise.resolve({ oldest: this.oldest(), latest: this.latest(), ...this.size() });
  }

  /** Reads the log a page at a time: each page is one query. */
  replay(after: bigint): ReplayReader {
    let cursor = after;
    return {
      read: (limit) => {
        const page = this.read(cursor, limit);
        if (page.length > 0) cursor = page[page.length - 1]!.sequence;
        return Promise.resolve(page);
      },
      close: () => {},
    };
  }

  /** Hands listener each commit a turn after it is durable. */
  follow(listener: CommitListener): bigint {
    this.listener = listener;
    return this.latest();
  }

  /** Sets new bounds and applies them at once. */
  setRetention(retention: Retention): Promise<void> {
    this.retention = retention;
    this.expire(Date.now());
    return Promise.resolve();
  }

  /** Writes what is queued, then closes the database. */
  close(): Promise<void> {
    this.commits.flush();
    this.db.close();
    return Promise.resolve();
  }
}
