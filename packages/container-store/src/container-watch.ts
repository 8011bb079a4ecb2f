/**
 * WatchContainers: the changes after a start revision that match a filter,
 * replayed from the retained history, then live as they are committed, in
 * revision order with no gap and no duplicate; progress messages mark the
 * end of the replay and keep an idle stream's resume position current.
 */
import { create } from "@bufbuild/protobuf";
import { OutOfRangeError, ResourceExhaustedError } from "@moby-core/sdk";
import type { Filter } from "@moby-core/sdk/list";
import { WatchContainersResponseSchema } from "@moby-core/container-store-api/v1";
import type { WatchContainersResponse } from "@moby-core/container-store-api/v1";
import { matchesContainer } from "./container-filter.js";
import type { ContainerDatabase, StoredChange } from "./container-database.js";

/** A progress message is sent when a stream has sent nothing for this long, in ms. */
export const PROGRESS_INTERVAL_MS = 10_000;
/** The most bytes of changes queued for one watcher and not yet sent; past it the watch ends with RESOURCE_EXHAUSTED. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Changes read from the history per query while replaying. */
const REPLAY_PAGE = 256;

/** Where a watch starts: the revision it sends changes after, and the store revision when it was established. */
export interface WatchStart {
  after: bigint;
  established: bigint;
}

/** The message for a position whose history is gone. */
function compacted(revision: bigint, oldest: bigint, field: string): string {
  return `${field} ${revision} is compacted; oldest retained revision is ${oldest}: read the store again (StreamContainers) and watch from its revision`;
}

/** Checks start_revision against the retained history (OUT_OF_RANGE outside it) and fixes where the watch starts. */
export function watchStart(db: ContainerDatabase, startRevision: bigint): WatchStart {
  const established = db.currentRevision();
  if (startRevision === 0n) return { after: established, established };
  if (startRevision > established) {
    throw new OutOfRangeError(`start_revision ${startRevision} is in the future; the current revision is ${established}`);
  }
  const oldest = db.oldestRetained();
  if (startRevision + 1n < oldest) throw new OutOfRangeError(compacted(startRevision, oldest, "start_revision"));
  return { after: startRevision, established };
}

/** Tells whether a change concerns a watcher: the container matches before or after the change. */
export function selected(filter: Filter, change: StoredChange): boolean {
  return matchesContainer(filter, change.container) || (change.previous !== undefined && matchesContainer(filter, change.previous));
}

function changeResponse(change: StoredChange): WatchContainersResponse {
  return create(WatchContainersResponseSchema, {
    kind: { case: "change", value: { revision: change.revision, type: change.type, container: change.container } },
  });
}

function progressResponse(revision: bigint): WatchContainersResponse {
  return create(WatchContainersResponseSchema, { kind: { case: "progress", value: { revision } } });
}

/** The watches open, and how many were cut off for falling behind, for the component's metrics. */
export interface WatchStats {
  open: number;
  cutOff: number;
}

/** The settings of a watch that tests may shorten, and where watches are counted. */
export interface WatchOptions {
  progressIntervalMs?: number;
  maxQueuedBytes?: number;
  stats?: WatchStats;
}

/** Streams the changes after start.after that filter selects, until signal aborts. */
export async function* watchContainers(
  db: ContainerDatabase,
  filter: Filter,
  start: WatchStart,
  signal: AbortSignal,
  options: WatchOptions = {},
): AsyncGenerator<WatchContainersResponse> {
  const progressInterval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  /** The revision every selected change up to which has been sent. */
  let cursor = start.after;
  /** The last revision the live feed has passed to this watcher, selected or not. */
  let passed = start.after;
  let replayed = false;
  const queue: StoredChange[] = [];
  let queuedBytes = 0;
  let overflow = false;
  let wake: (() => void) | undefined;
  let leave: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  const stats = options.stats;
  if (stats !== undefined) stats.open++;
  try {
    // Replay the history until caught up. The last (empty) read and joining
    // the live feed happen in one synchronous step, so no commit falls between.
    while (leave === undefined) {
      if (signal.aborted) return;
      const oldest = db.oldestRetained();
      if (cursor + 1n < oldest) throw new OutOfRangeError(compacted(cursor, oldest, "revision"));
      const page = db.changesAfter(cursor, REPLAY_PAGE);
      if (page.length === 0) {
        passed = cursor;
        leave = db.onCommit((change) => {
          if (overflow || change.revision <= passed) return;
          passed = change.revision;
          if (selected(filter, change)) {
            queue.push(change);
            queuedBytes += change.size;
            if (queuedBytes > maxQueued) overflow = true;
          }
          wake?.();
        });
        break;
      }
      for (const change of page) {
        if (!replayed && change.revision > start.established) {
          replayed = true;
          yield progressResponse(start.established);
        }
        cursor = change.revision;
        if (selected(filter, change)) yield changeResponse(change);
      }
    }
    // Caught up with no change after the revision the watch was established at.
    if (!replayed) yield progressResponse(start.established);

    // Live: send what is committed; report progress when nothing was sent for a while.
    let lastSent = Date.now();
    for (;;) {
      if (overflow) {
        if (stats !== undefined) stats.cutOff++;
        throw new ResourceExhaustedError(`the watcher has more than ${maxQueued} bytes of changes waiting to be sent; resume from revision ${cursor}`);
      }
      const next = queue.shift();
      if (next !== undefined) {
        cursor = next.revision;
        queuedBytes -= next.size;
        yield changeResponse(next);
        lastSent = Date.now();
        continue;
      }
      // Nothing waits: every selected change the live feed passed has been sent.
      cursor = passed;
      if (signal.aborted) return;
      const wait = lastSent + progressInterval - Date.now();
      if (wait <= 0) {
        yield progressResponse(cursor);
        lastSent = Date.now();
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    leave?.();
    if (stats !== undefined) stats.open--;
  }
}
