/**
 * Reading containers in ascending byte order of id: ListContainers pages
 * (keyset pagination after the id a page token carries, each page read at
 * one store revision) and StreamContainers batches (every match, from one
 * consistent snapshot). Both keep each response under the 4 MiB message
 * limit; a single container always fits. Records go out as they are
 * stored, already encoded (see encoded-records.ts); a record is decoded only to
 * match it against a filter.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { RevisionConflictError } from "@moby-core/sdk";
import { effectivePageSize } from "@moby-core/sdk/list";
import type { Filter, PageTokens } from "@moby-core/sdk/list";
import { ListContainersResponseSchema, StreamContainersResponseSchema } from "@moby-core/container-store-api/v1";
import type { ListContainersResponse, StreamContainersResponse } from "@moby-core/container-store-api/v1";
import { withRecords } from "./encoded-records.js";
import { matchesContainer } from "./container-filter.js";
import type { ContainerBackend, ContainerReader } from "./container-backend.js";
import { decodeRecord } from "./container-database.js";
import { SnapshotSlots } from "./container-snapshot.js";

/** The most containers in one StreamContainers response. */
export const STREAM_BATCH_SIZE = 100;
/** The largest response, in bytes. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/**
 * The largest StreamContainers response, in bytes (one container may be
 * larger, up to the 1 MiB a record may take): a stream whose client stops
 * reading holds one response in its writer and one being built, so this
 * bounds what each open stream buffers.
 */
export const MAX_STREAM_RESPONSE_BYTES = 1024 * 1024;
/** The room kept in a response for its other fields (page token, revision). */
const RESPONSE_OVERHEAD = 1024;
/** Rows read from SQLite at a time. */
const SCAN_CHUNK = 256;
/** The most rows one page examines: a selective filter gets a shorter page (with a token) rather than a long pause. */
export const MAX_SCANNED_PER_PAGE = 20_000;

/** The bytes a varint of value takes. */
function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/** The bytes an encoded container of size takes as an element of a repeated field. */
export function elementSize(size: number): number {
  return 1 + varintLength(size) + size;
}

/** Tells whether a record passes filter (a filter with no selector passes everything, undecoded). */
function passes(filter: Filter, record: Uint8Array): boolean {
  return filter.selectors.length === 0 || matchesContainer(filter, decodeRecord(record));
}

/** What one ListContainers asks, once checked. */
export interface PageRequest {
  filter: Filter;
  /** The filter's text, which tokens are bound to. */
  filterText: string;
  /** The page size as requested (0: the default). */
  pageSize: number;
  pageToken: string;
}

/** Reads one page of a listing at the store's current revision. */
export async function listPage(backend: ContainerBackend, tokens: PageTokens, request: PageRequest): Promise<ListContainersResponse> {
  const reader = await backend.pageReader();
  try {
    return await readPage(reader, tokens, request);
  } finally {
    reader.close();
  }
}

/** Reads one page with reader. */
async function readPage(db: ContainerReader, tokens: PageTokens, request: PageRequest): Promise<ListContainersResponse> {
  const after = request.pageToken === "" ? "" : tokens.decode(request.pageToken, request.filterText);
  const limit = effectivePageSize(request.pageSize);
  const budget = MAX_RESPONSE_BYTES - RESPONSE_OVERHEAD;
  const records: Uint8Array[] = [];
  let bytes = 0;
  let cursor = after;
  let scanned = 0;
  let more = false;
  // A page with no filter needs limit + 1 rows (the one more tells whether there are more); read no more than that.
  const chunk = request.filter.selectors.length === 0 ? Math.min(limit + 1, SCAN_CHUNK) : SCAN_CHUNK;
  scan: for (;;) {
    const rows = await db.rowsAfter(cursor, chunk);
    for (const row of rows) {
      if (passes(request.filter, row.record)) {
        const cost = elementSize(row.record.byteLength);
        if (records.length >= limit || bytes + cost > budget) {
          more = true;
          break scan;
        }
        records.push(row.record);
        bytes += cost;
      }
      cursor = row.id;
      if (++scanned >= MAX_SCANNED_PER_PAGE) {
        more = await db.anyAfter(cursor);
        break scan;
      }
    }
    if (rows.length < chunk) break;
  }
  const page = create(ListContainersResponseSchema, {
    nextPageToken: more ? tokens.encode(cursor, request.filterText) : "",
    revision: db.revision,
  });
  return withRecords(page, ListContainersResponseSchema.field.containers!, records);
}

/** How long a StreamContainers snapshot may be held, by default: it keeps the WAL from being checkpointed meanwhile. */
export const DEFAULT_SNAPSHOT_LIFETIME_MS = 60_000;

/**
 * Streams every container that matches filter from one snapshot of the
 * store (backend.snapshot()), in batches of at most 100 containers and 1 MiB; always
 * at least one response. The snapshot is opened on the first read, in one of
 * slots (RESOURCE_EXHAUSTED when none is free), and closed when the stream
 * ends, however it ends, or after lifetimeMs: a client that reads that
 * slowly (or stops reading) must not keep SQLite from checkpointing its WAL,
 * which would grow with every write. Such a stream ends with ABORTED.
 */
export async function* streamContainers(
  backend: ContainerBackend,
  filter: Filter,
  signal: AbortSignal,
  lifetimeMs = DEFAULT_SNAPSHOT_LIFETIME_MS,
  slots: SnapshotSlots = new SnapshotSlots(Infinity),
): AsyncGenerator<StreamContainersResponse> {
  const release = slots.take();
  let snapshot: ContainerReader;
  try {
    snapshot = await backend.snapshot();
  } catch (error) {
    release();
    throw error;
  }
  let expired = false;
  const expiry = setTimeout(() => {
    expired = true;
    snapshot.close();
  }, lifetimeMs);
  const checkExpired = () => {
    if (expired) {
      throw new RevisionConflictError(
        `the snapshot of this listing was released after ${lifetimeMs / 1000} s, before the client had read it all: list again, reading faster, or page with ListContainers`,
      );
    }
  };
  try {
    const { revision } = snapshot;
    const budget = MAX_STREAM_RESPONSE_BYTES - RESPONSE_OVERHEAD;
    let batch: Uint8Array[] = [];
    let bytes = 0;
    let sent = false;
    let cursor = "";
    for (;;) {
      if (signal.aborted) return;
      checkExpired();
      const rows = await snapshot.rowsAfter(cursor, SCAN_CHUNK);
      for (const row of rows) {
        cursor = row.id;
        if (!passes(filter, row.record)) continue;
        const cost = elementSize(row.record.byteLength);
        if (batch.length >= STREAM_BATCH_SIZE || (batch.length > 0 && bytes + cost > budget)) {
          yield withRecords(create(StreamContainersResponseSchema, { revision }), StreamContainersResponseSchema.field.containers!, batch);
          sent = true;
          batch = [];
          bytes = 0;
        }
        batch.push(row.record);
        bytes += cost;
      }
      if (rows.length < SCAN_CHUNK) break;
      await yieldToEventLoop();
    }
    if (batch.length > 0 || !sent) yield withRecords(create(StreamContainersResponseSchema, { revision }), StreamContainersResponseSchema.field.containers!, batch);
  } finally {
    clearTimeout(expiry);
    snapshot.close();
    release();
  }
}
