/**
 * A consistent snapshot of the containers: a read transaction on a
 * connection of its own, so that a long read (StreamContainers) sees one
 * store revision while writes go on. SQLite in WAL mode keeps the snapshot's
 * pages for it until it is closed.
 */
import Database from "better-sqlite3";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { ResourceExhaustedError } from "@moby-core/sdk";
import type { ContainerReader, ContainerRow } from "./container-backend.js";

/** The most snapshots open at once by default (the store's config.maxSnapshots). */
export const DEFAULT_MAX_SNAPSHOTS = 16;

/**
 * The page cache of a snapshot's connection, in KiB (SQLite's default is
 * ~2 MiB per connection): a snapshot is read once, front to back.
 */
export const SNAPSHOT_CACHE_KIB = 512;

/**
 * The snapshots open at once, up to a most: each holds a connection, its
 * page cache, and every WAL page written since it began (SQLite cannot reset
 * the WAL while one is open), so they are counted and capped.
 */
export class SnapshotSlots {
  /** The snapshots open now. */
  inUse = 0;

  /** Slots for at most max snapshots at once; max may be changed later (Reload). */
  constructor(public max: number = DEFAULT_MAX_SNAPSHOTS) {}

  /** Takes a slot, or throws RESOURCE_EXHAUSTED when all are taken; returns what gives it back (once). */
  take(): () => void {
    if (this.inUse >= this.max) {
      throw new ResourceExhaustedError(
        `${this.inUse} StreamContainers snapshots are open, the most allowed (config.maxSnapshots ${this.max}): retry after one ends, or page with ListContainers`,
      );
    }
    this.inUse++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.inUse--;
    };
  }
}

/** One read snapshot of a container database; close it when done. */
export class ContainerSnapshot implements ContainerReader {
  /** The store revision the snapshot is at. */
  readonly revision: bigint;
  private readonly db: SqliteDatabase;
  private readonly rows: Statement;
  private readonly any: Statement;
  private open = true;

  /** Opens a snapshot of the database at path, at its latest committed revision. */
  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      this.db.defaultSafeIntegers(true);
      this.db.pragma(`cache_size = -${SNAPSHOT_CACHE_KIB}`);
      this.rows = this.db.prepare("SELECT id, record FROM containers WHERE id > ? ORDER BY id LIMIT ?");
      this.any = this.db.prepare("SELECT 1 FROM containers WHERE id > ? LIMIT 1");
      this.db.exec("BEGIN");
      // The first read fixes the snapshot; every later read in the transaction sees the same one.
      this.revision = (this.db.prepare("SELECT revision FROM store WHERE id = 1").get() as { revision: bigint }).revision;
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Up to limit containers with an id after `after` (byte order), still encoded. */
  rowsAfter(after: string, limit: number): ContainerRow[] {
    if (!this.open) throw new Error("the snapshot is closed");
    return (this.rows.all(after, limit) as { id: string; record: Buffer }[]).map((r) => ({ id: r.id, record: r.record }));
  }

  /** Tells whether any container has an id after `after`. */
  anyAfter(after: string): boolean {
    if (!this.open) throw new Error("the snapshot is closed");
    return this.any.get(after) !== undefined;
  }

  /** Ends the read transaction and closes the connection. Safe to call twice. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.db.exec("ROLLBACK");
    } finally {
      this.db.close();
    }
  }
}
