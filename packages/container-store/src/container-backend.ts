/**
 * Where the container records live, as the service sees it: one interface
 * with two implementations, SQLite (container-database.ts through
 * sqlite-store.ts, the embedded default) and etcd v3 (etcd-store.ts, for
 * several nodes). The service checks every request before it reaches a
 * backend; a backend keeps the contract's promises on writes (one atomic
 * write per call, its revision, ALREADY_EXISTS, ABORTED, NOT_FOUND decided by
 * the write's own function on the state it will change), reads (a page or a
 * snapshot at one store revision) and watches.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { GroupCommit } from "@moby-core/sdk";
import type { Filter } from "@moby-core/sdk/list";
import type { Container, ContainerChangeType, WatchContainersResponse } from "@moby-core/container-store-api/v1";

/** One committed write, as watchers and the event publisher see it. */
export interface StoredChange {
  /** The store revision of the write. */
  revision: bigint;
  /** What the write did. */
  type: ContainerChangeType;
  /** The container after the write; for a delete, as it was just before it. */
  container: Container;
  /** For an update, the container before it (at least the fields a filter reads). */
  previous?: Container;
  /** The encoded size of container, in bytes. */
  size: number;
  /**
   * Where the backend has it (etcd): container encoded, its revision
   * included, to answer the write with these bytes instead of encoding it
   * again. SQLite leaves it unset: measured on the shared machine its
   * creates did not get cheaper with it.
   */
  record?: Uint8Array;
  /** For an update that was just committed, the mask's paths, sorted. Not kept in the history. */
  updatePaths?: string[];
}

/** What a write sees while it decides what to do: nothing is written until it returns. */
export interface WriteContext {
  /** The store revision this write will get (on etcd, the revision it would get if nothing else wrote first: the stored one is set at commit). */
  readonly revision: bigint;
  /** The store's clock for this write. */
  readonly now: Timestamp;
  /** The container with this id as stored, or undefined (on etcd, only the id the write names can be read). */
  get(id: string): Container | undefined;
}

/**
 * What one write does to one container. A create or update carries stored:
 * container encoded without its revision (as checkContainer returns it),
 * which the backend writes with the revision the write gets, so that the
 * record is encoded once per write.
 */
export type Mutation =
  | { type: ContainerChangeType.CREATE; container: Container; stored: Uint8Array }
  | { type: ContainerChangeType.UPDATE; container: Container; stored: Uint8Array; previous: Container; updatePaths: string[] }
  | { type: ContainerChangeType.DELETE; container: Container };

/** Decides one write from the state it sees; throws (writing nothing) to refuse it. */
export type WriteDecision = (context: WriteContext) => Mutation;

/** What the caller expects of a write, so a backend can skip a read: it never changes the outcome. */
export interface WriteHint {
  /** The container most likely does not exist yet (a create): decide first, and read only if it does. */
  likelyAbsent?: boolean;
}

/** One stored container, still encoded. */
export interface ContainerRow {
  id: string;
  record: Uint8Array;
}

/** Reads of containers at one store revision, in ascending byte order of id; close it when done. */
export interface ContainerReader {
  /** The store revision every read of this reader sees. */
  readonly revision: bigint;
  /** Up to limit containers with an id after `after` (byte order), still encoded. */
  rowsAfter(after: string, limit: number): ContainerRow[] | Promise<ContainerRow[]>;
  /** Tells whether any container has an id after `after`. */
  anyAfter(after: string): boolean | Promise<boolean>;
  /** Releases what the reader holds. Safe to call twice. */
  close(): void;
}

/** The settings of a watch that tests may shorten. */
export interface WatchOptions {
  /** A progress message is sent when a stream has sent nothing for this long, in ms. */
  progressIntervalMs?: number;
  /** The most bytes of changes queued for one watcher; past it the watch ends with RESOURCE_EXHAUSTED. */
  maxQueuedBytes?: number;
  /** Where the service counts the watches open and cut off, for the component's metrics. */
  stats?: WatchStats;
}

/** The watches open, and how many were cut off for falling behind, for the component's metrics. */
export interface WatchStats {
  open: number;
  cutOff: number;
}

/** What the store's own metrics read from its backend. */
export interface BackendStats {
  /** How many container records the store holds. */
  containers: number;
  /** The oldest revision whose change is kept for watchers; undefined where the backend cannot say (etcd: its compaction). */
  oldestRevision: bigint | undefined;
}

/** The storage of the container store. */
export interface ContainerBackend {
  /** Where the records are, for the logs. */
  readonly location: Record<string, string>;
  /** The key page tokens are signed with, the same for every node sharing the records. */
  readonly tokenKey: Uint8Array;
  /** The store revision: that of the last write, 0 for a store never written. */
  currentRevision(): Promise<bigint>;
  /** The container with this id as stored (an encoded Container), or undefined. */
  record(id: string): Promise<Uint8Array | undefined>;
  /** A reader for one ListContainers page: short-lived, at the current revision. */
  pageReader(): Promise<ContainerReader>;
  /** A consistent snapshot for StreamContainers, at the current revision, held until closed. */
  snapshot(): Promise<ContainerReader>;
  /**
   * Commits one write to the container with this id: decide sees the
   * container as stored (and may throw, writing nothing); hint may save a
   * read. Resolves with the
   * change once it is durable; rejects with what decide threw.
   */
  write(id: string, decide: WriteDecision, hint?: WriteHint): Promise<StoredChange>;
  /** Calls listener with every change this process commits from now on, in revision order, until the returned function is called. */
  onCommit(listener: (change: StoredChange) => void): () => void;
  /**
   * Checks start_revision (OUT_OF_RANGE when compacted or in the future) and
   * returns the stream of changes after it that filter selects, with
   * progress, until signal aborts.
   */
  watch(filter: Filter, startRevision: bigint, signal: AbortSignal, options: WatchOptions): Promise<AsyncGenerator<WatchContainersResponse>>;
  /** The counts the store's metrics report. */
  stats(): Promise<BackendStats>;
  /** The group commit of writes, where the backend batches them (SQLite): its batch sizes and times are metrics. */
  readonly commits?: GroupCommit<unknown, StoredChange>;
  /** Commits what is queued and releases the storage. */
  close(): Promise<void>;
}
