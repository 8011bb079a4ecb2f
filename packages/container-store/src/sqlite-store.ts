/**
 * The SQLite backend, the embedded default: the container database of one
 * machine (container-database.ts) behind the backend interface. Reads are
 * synchronous on the database's connection, so a page read between two
 * awaits still sees one revision (commits run on a later turn); a
 * StreamContainers snapshot is a read transaction on a connection of its own
 * (container-snapshot.ts); watches replay the change history the database
 * keeps (container-watch.ts).
 */
import type { Filter } from "@moby-core/sdk/list";
import type { WatchContainersResponse } from "@moby-core/container-store-api/v1";
import type { GroupCommit } from "@moby-core/sdk";
import type { BackendStats, ContainerBackend, ContainerReader, StoredChange, WatchOptions, WriteDecision } from "./container-backend.js";
import { ContainerDatabase } from "./container-database.js";
import { ContainerSnapshot } from "./container-snapshot.js";
import { watchContainers, watchStart } from "./container-watch.js";
import type { HistoryRetention } from "./store-config.js";

/** The container records in one SQLite file. */
export class SqliteStore implements ContainerBackend {
  /** The database. */
  readonly db: ContainerDatabase;
  readonly location: Record<string, string>;
  readonly tokenKey: Uint8Array;
  readonly commits: GroupCommit<unknown, StoredChange>;

  /** Opens (creating and migrating when needed) the SQLite file at path. */
  constructor(path: string, retention: HistoryRetention, reportError: (error: unknown) => void = () => {}) {
    this.db = new ContainerDatabase(path, retention, reportError);
    this.location = { backend: "sqlite", database: path };
    this.tokenKey = this.db.tokenKey;
    this.commits = this.db.commits;
  }

  async stats(): Promise<BackendStats> {
    return { containers: this.db.countContainers(), oldestRevision: this.db.oldestRetained() };
  }

  async currentRevision(): Promise<bigint> {
    return this.db.currentRevision();
  }

  async record(id: string): Promise<Uint8Array | undefined> {
    return this.db.record(id);
  }

  async pageReader(): Promise<ContainerReader> {
    const { db } = this;
    return {
      revision: db.currentRevision(),
      rowsAfter: (after, limit) => db.rowsAfter(after, limit),
      anyAfter: (after) => db.anyAfter(after),
      close() {},
    };
  }

  async snapshot(): Promise<ContainerReader> {
    return new ContainerSnapshot(this.db.path);
  }

  write(_id: string, decide: WriteDecision): Promise<StoredChange> {
    return this.db.write(decide);
  }

  onCommit(listener: (change: StoredChange) => void): () => void {
    return this.db.onCommit(listener);
  }

  async watch(filter: Filter, startRevision: bigint, signal: AbortSignal, options: WatchOptions): Promise<AsyncGenerator<WatchContainersResponse>> {
    const start = watchStart(this.db, startRevision);
    return watchContainers(this.db, filter, start, signal, options);
  }

  /** Changes how much history is kept, and applies it now. */
  setRetention(retention: HistoryRetention): void {
    this.db.retention = retention;
    this.db.trim();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
