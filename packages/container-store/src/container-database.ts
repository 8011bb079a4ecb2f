/**
 * The container store's durable state in SQLite (WAL mode, a full sync on
 * every commit): the containers, each as its encoded Container record (the
 * spec and other Any values inside as they came, never decoded); the store
 * revision, one counter across all containers that every write advances by
 * exactly one; and the change history WatchContainers replays, trimmed to a
 * bounded retention. Writes that arrive while the store is busy are committed
 * together (group commit): one durable transaction, each write a savepoint in
 * it, so a write that fails undoes only itself, and every write is
 * acknowledged only after the commit. Committed changes are handed to
 * listeners (watchers, the event publisher) in revision order, in the same
 * turn as the commit.
 */
import { randomBytes } from "node:crypto";
import { GroupCommit, ensurePrivateDirectory } from "@moby-core/sdk";
import type { CommitOutcome } from "@moby-core/sdk";
import { dirname } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { ContainerChangeType, ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { filterProjection, withRevision } from "./container-record.js";
import type { HistoryRetention } from "./store-config.js";
import type { ContainerRow, Mutation, StoredChange, WriteContext } from "./container-backend.js";

export type { ContainerRow, Mutation, StoredChange, WriteContext } from "./container-backend.js";

/** A write waiting for the next group commit: what decides its mutation. */
type PendingWrite = (context: WriteContext) => Mutation;

/** Where the history stands: the revision of the last write, the oldest retained change, the retained bytes. */
interface HistoryState {
  revision: bigint;
  oldest: bigint;
  bytes: number;
}

/** The schema version this code reads and writes. */
const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE store (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      revision INTEGER NOT NULL,
      token_key BLOB NOT NULL
    );
    CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      revision INTEGER NOT NULL,
      record BLOB NOT NULL
    );
    CREATE TABLE changes (
      revision INTEGER PRIMARY KEY,
      type INTEGER NOT NULL,
      id TEXT NOT NULL,
      record BLOB NOT NULL,
      previous BLOB,
      size INTEGER NOT NULL
    );
  `,
};

/** The bytes a change counts for in retention. */
function changeWeight(record: Uint8Array, previous: Uint8Array | null): number {
  return record.byteLength + (previous?.byteLength ?? 0) + 32;
}

interface ChangeRow {
  revision: bigint;
  type: bigint;
  record: Buffer;
  previous: Buffer | null;
}

/** Decodes an encoded record. */
export function decodeRecord(record: Uint8Array): Container {
  return fromBinary(ContainerSchema, record);
}

/** Applies an SQLite file's pending migrations, in order, each in one transaction. */
function migrate(db: SqliteDatabase): void {
  const current = Number(db.pragma("user_version", { simple: true }));
  if (current > SCHEMA_VERSION) {
    throw new Error(`the container-store database has schema version ${current}, newer than this component's ${SCHEMA_VERSION}`);
  }
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      if (version === 1) db.prepare("INSERT INTO store (id, revision, token_key) VALUES (1, 0, ?)").run(randomBytes(32));
      db.pragma(`user_version = ${version}`);
    })();
  }
}

/** The container store's database. */
export class ContainerDatabase {
  /** The SQLite file. */
  readonly path: string;
  /** The key page tokens are signed with, kept in the database. */
  readonly tokenKey: Uint8Array;
  private readonly db: SqliteDatabase;
  private readonly statements: Record<
    "get" | "insert" | "update" | "remove" | "insertChange" | "setRevision" | "rowsAfter" | "anyAfter" | "changesAfter" | "sizeUpTo" | "dropUpTo" | "oldestSizes",
    Statement
  >;
  private readonly listeners = new Set<(change: StoredChange) => void>();
  /** Runs one write as a savepoint inside the group's transaction. */
  private readonly applyInSavepoint: (decide: (context: WriteContext) => Mutation, before: HistoryState) => { change: StoredChange; after: HistoryState };
  /** The group commit of the writes; its onCommit feeds the commit metrics. */
  readonly commits = new GroupCommit<PendingWrite, StoredChange>((group) => this.commitGroup(group));
  private countStatement: Statement | undefined;
  private revision: bigint;
  /** The lowest retained change revision; revision + 1 when none is retained. */
  private oldest: bigint;
  private bytes: number;

  constructor(
    path: string,
    /** How much change history is kept; assign to change it (applied from the next write, or by trim()). */
    public retention: HistoryRetention,
    /** Where a failing listener is reported. */
    private readonly reportError: (error: unknown) => void = () => {},
  ) {
    this.path = path;
    ensurePrivateDirectory(dirname(path), "state directory");
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.defaultSafeIntegers(true);
    migrate(this.db);
    const row = this.db.prepare("SELECT revision, token_key FROM store WHERE id = 1").get() as { revision: bigint; token_key: Buffer } | undefined;
    if (row === undefined) throw new Error(`${path}: the store row is missing`);
    this.revision = row.revision;
    this.tokenKey = new Uint8Array(row.token_key);
    const history = this.db.prepare("SELECT MIN(revision) AS oldest, COALESCE(SUM(size), 0) AS bytes FROM changes").get() as { oldest: bigint | null; bytes: bigint };
    this.oldest = history.oldest ?? this.revision + 1n;
    this.bytes = Number(history.bytes);
    this.statements = {
      get: this.db.prepare("SELECT record FROM containers WHERE id = ?"),
      insert: this.db.prepare("INSERT INTO containers (id, revision, record) VALUES (?, ?, ?)"),
      update: this.db.prepare("UPDATE containers SET revision = ?, record = ? WHERE id = ?"),
      remove: this.db.prepare("DELETE FROM containers WHERE id = ?"),
      insertChange: this.db.prepare("INSERT INTO changes (revision, type, id, record, previous, size) VALUES (?, ?, ?, ?, ?, ?)"),
      setRevision: this.db.prepare("UPDATE store SET revision = ? WHERE id = 1"),
      rowsAfter: this.db.prepare("SELECT id, record FROM containers WHERE id > ? ORDER BY id LIMIT ?"),
      anyAfter: this.db.prepare("SELECT 1 FROM containers WHERE id > ? LIMIT 1"),
      changesAfter: this.db.prepare("SELECT revision, type, record, previous FROM changes WHERE revision > ? ORDER BY revision LIMIT ?"),
      sizeUpTo: this.db.prepare("SELECT COALESCE(SUM(size), 0) AS bytes FROM changes WHERE revision <= ?"),
      dropUpTo: this.db.prepare("DELETE FROM changes WHERE revision <= ?"),
      oldestSizes: this.db.prepare("SELECT revision, size FROM changes ORDER BY revision LIMIT ?"),
    };
    // A transaction function called inside a transaction runs as a savepoint.
    this.applyInSavepoint = this.db.transaction((decide: (context: WriteContext) => Mutation, before: HistoryState) => this.apply(decide, before));
  }

  /** The store revision: that of the last write, 0 for a store never written. */
  currentRevision(): bigint {
    return this.revision;
  }

  /** How many containers the store holds. */
  countContainers(): number {
    this.countStatement ??= this.db.prepare("SELECT COUNT(*) AS count FROM containers");
    return Number((this.countStatement.get() as { count: bigint }).count);
  }

  /** The lowest revision whose change is retained; currentRevision() + 1 when no change is retained. */
  oldestRetained(): bigint {
    return this.oldest;
  }

  /** The container with this id, or undefined. */
  get(id: string): Container | undefined {
    const record = this.record(id);
    return record === undefined ? undefined : decodeRecord(record);
  }

  /** The container with this id as stored (an encoded Container), or undefined. */
  record(id: string): Uint8Array | undefined {
    return (this.statements.get.get(id) as { record: Buffer } | undefined)?.record;
  }

  /** Up to limit containers with an id after `after` (byte order), still encoded. */
  rowsAfter(after: string, limit: number): ContainerRow[] {
    return (this.statements.rowsAfter.all(after, limit) as { id: string; record: Buffer }[]).map((r) => ({ id: r.id, record: r.record }));
  }

  /** Tells whether any container has an id after `after`. */
  anyAfter(after: string): boolean {
    return this.statements.anyAfter.get(after) !== undefined;
  }

  /** Up to limit retained changes with a revision greater than after, in revision order. */
  changesAfter(after: bigint, limit: number): StoredChange[] {
    return (this.statements.changesAfter.all(after, limit) as ChangeRow[]).map((row) => ({
      revision: row.revision,
      type: Number(row.type) as ContainerChangeType,
      container: decodeRecord(row.record),
      ...(row.previous === null ? {} : { previous: decodeRecord(row.previous) }),
      size: row.record.byteLength,
    }));
  }

  /** Calls listener with every change committed from now on, in revision order, until the returned function is called. */
  onCommit(listener: (change: StoredChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Queues one write for the next group commit: decide sees the store as the
   * writes before it in the group left it (and may throw, writing nothing);
   * then its mutation is stored, recorded in the history under the next
   * revision, and the history trimmed. Resolves with the change once it is
   * durable, after the listeners have it; rejects with what decide threw.
   */
  write(decide: (context: WriteContext) => Mutation): Promise<StoredChange> {
    return this.commits.add(decide);
  }

  /**
   * Commits a group of writes in one durable transaction, each in its own
   * savepoint, then hands the committed changes to the listeners in order.
   * Throws when the commit itself failed: nothing of the group was written.
   */
  private commitGroup(group: PendingWrite[]): CommitOutcome<StoredChange>[] {
    const outcomes: CommitOutcome<StoredChange>[] = [];
    let state: HistoryState = { revision: this.revision, oldest: this.oldest, bytes: this.bytes };
    this.db.transaction(() => {
      for (const decide of group) {
        try {
          const applied = this.applyInSavepoint(decide, state);
          state = applied.after;
          outcomes.push({ value: applied.change });
        } catch (error) {
          // An error that ended the whole transaction (a full disk, an I/O error) fails the group.
          if (!this.db.inTransaction) throw error;
          outcomes.push({ error });
        }
      }
    })();
    this.revision = state.revision;
    this.oldest = state.oldest;
    this.bytes = state.bytes;
    for (const outcome of outcomes) if ("value" in outcome) this.notify(outcome.value);
    return outcomes;
  }

  /** Stores one write's mutation and its history entry; the caller holds the transaction. */
  private apply(decide: (context: WriteContext) => Mutation, before: HistoryState): { change: StoredChange; after: HistoryState } {
    const revision = before.revision + 1n;
    const mutation = decide({ revision, now: timestampNow(), get: (id) => this.get(id) });
    const { container } = mutation;
    // A create or update brings its record encoded once, without the revision; a delete stores nothing of it but the history entry.
    const record = mutation.type === ContainerChangeType.DELETE ? toBinary(ContainerSchema, container) : withRevision(mutation.stored, container.revision);
    switch (mutation.type) {
      case ContainerChangeType.CREATE:
        this.statements.insert.run(container.id, container.revision, record);
        break;
      case ContainerChangeType.UPDATE:
        if (this.statements.update.run(container.revision, record, container.id).changes !== 1) throw new Error(`update of missing ${container.id}`);
        break;
      case ContainerChangeType.DELETE:
        if (this.statements.remove.run(container.id).changes !== 1) throw new Error(`delete of missing ${container.id}`);
        break;
    }
    const previous = mutation.type === ContainerChangeType.UPDATE ? toBinary(ContainerSchema, filterProjection(mutation.previous)) : null;
    const weight = changeWeight(record, previous);
    this.statements.insertChange.run(revision, mutation.type, container.id, record, previous, weight);
    this.statements.setRevision.run(revision);
    const history = this.trimHistory(revision, before.oldest, before.bytes + weight);
    const change: StoredChange = {
      revision,
      type: mutation.type,
      container,
      size: record.byteLength,
      ...(mutation.type === ContainerChangeType.UPDATE ? { previous: mutation.previous, updatePaths: mutation.updatePaths } : {}),
    };
    return { change, after: { revision, ...history } };
  }

  /** Hands a committed change to every listener; a failing listener is reported, not thrown. */
  private notify(change: StoredChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.reportError(error);
      }
    }
  }

  /**
   * Drops the oldest changes past the retention bounds, inside the current
   * transaction; latest is the newest revision, oldest and bytes describe the
   * history before trimming. Returns the history after.
   */
  private trimHistory(latest: bigint, oldest: bigint, bytes: number): { oldest: bigint; bytes: number } {
    const { maxChanges, maxBytes } = this.retention;
    let cutoff = oldest - 1n;
    if (maxChanges > 0 && latest - cutoff > BigInt(maxChanges)) {
      cutoff = latest - BigInt(maxChanges);
      bytes -= Number((this.statements.sizeUpTo.get(cutoff) as { bytes: bigint }).bytes);
      this.statements.dropUpTo.run(cutoff);
    }
    if (maxBytes > 0 && bytes > maxBytes) {
      let freed = 0;
      let dropTo = cutoff;
      for (const row of this.statements.oldestSizes.iterate(Number(latest - cutoff)) as Iterable<{ revision: bigint; size: bigint }>) {
        if (bytes - freed <= maxBytes) break;
        freed += Number(row.size);
        dropTo = row.revision;
      }
      this.statements.dropUpTo.run(dropTo);
      bytes -= freed;
      cutoff = dropTo;
    }
    return { oldest: cutoff + 1n, bytes };
  }

  /** Applies the current retention now, in one transaction. */
  trim(): void {
    const history = this.db.transaction(() => this.trimHistory(this.revision, this.oldest, this.bytes))();
    this.oldest = history.oldest;
    this.bytes = history.bytes;
  }

  /** Commits the writes still queued, then closes the database. */
  close(): void {
    this.commits.flush();
    this.db.close();
  }
}
