/**
 * WatchContainers on the etcd backend: one etcd watch of the store's prefix
 * from the revision after start_revision, with previous values, on a watch
 * stream of its own. Where etcd differs from the contract, this keeps the
 * contract:
 *
 * - etcd waits on a start revision in the future; we answer OUT_OF_RANGE
 *   stating the current store revision.
 * - etcd cancels a watch of a compacted revision with its compact revision;
 *   we answer OUT_OF_RANGE stating it as the oldest retained revision.
 * - etcd never cuts a slow watcher; we end one with RESOURCE_EXHAUSTED once
 *   more than the documented 16 MiB of selected changes wait to be sent
 *   (while the history is being replayed, the etcd stream is paused instead:
 *   replay goes at the client's pace).
 * - Only the containers' keys are watched, not `<prefix>revision`: every
 *   store write changes one container key and the revision key in one
 *   transaction, at one etcd revision, so a container event at revision R
 *   says that every change up to R has been received (etcd sends events in
 *   revision order); the end of the replay (the store revision when the
 *   watch was established is always a container write's) and idle streams
 *   are reported from it, as on SQLite. Watching the whole prefix would make
 *   etcd send twice the events.
 * - Without a filter, a change is sent as the bytes etcd holds (the record
 *   without its revision, the revision appended: encoded-records.ts), never
 *   decoded; a filter decodes each change to read it.
 * - A broken etcd stream (a member stopped) is opened again from the last
 *   revision received, on any member: the watcher sees no gap and no repeat.
 */
import { create } from "@bufbuild/protobuf";
import { ContainerChangeSchema, ContainerChangeType, WatchContainersResponseSchema } from "@moby-core/container-store-api/v1";
import type { WatchContainersResponse } from "@moby-core/container-store-api/v1";
import { OutOfRangeError, ResourceExhaustedError, UnavailableError } from "@moby-core/sdk";
import type { Filter } from "@moby-core/sdk/list";
import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from "etcd3";
import type { StoredChange, WatchOptions } from "./container-backend.js";
import { changeResponse, compacted, MAX_QUEUED_BYTES, PROGRESS_INTERVAL_MS, progressResponse, selected } from "./container-watch.js";
import { withRecords } from "./encoded-records.js";
import { withRevision } from "./container-record.js";
import { decodeStored } from "./etcd-store.js";
import type { EtcdStore } from "./etcd-store.js";

/** How long a broken etcd watch stream waits before it is opened again, in ms. */
const REOPEN_DELAY_MS = 200;

/** A paused-able etcd watch stream (grpc-js's duplex stream is a Node stream). */
export type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse> & { pause(): void; resume(): void };

/**
 * Ends an etcd watch stream from our side: its send side first, then the
 * call. etcd3 takes an error on a stream still writable (cancelling one
 * gives CANCELLED) as a failure of the member: it resets the connection to
 * that member, breaking every other watch and call on it, and five in a row
 * open the member's circuit breaker, so that every call is refused for a
 * while. A watcher going away is not a member failing.
 */
export function closeWatchStream(stream: WatchStream): void {
  stream.end();
  stream.cancel();
}

/** A change waiting to be sent: decoded already, or still the etcd event. */
interface Queued {
  revision: bigint;
  /** The bytes of the record it carries. */
  size: number;
  change?: StoredChange;
  event?: IEvent;
}

/** The store change an etcd event of a container key is, or undefined when the event cannot be read as one. */
function toChange(event: IEvent): StoredChange | undefined {
  const revision = BigInt(event.kv.mod_revision);
  if (event.type === "Delete") {
    const prev = event.prev_kv;
    if (prev === undefined || prev === null) return undefined;
    const container = decodeStored(prev.value, BigInt(prev.mod_revision));
    return { revision, type: ContainerChangeType.DELETE, container, size: prev.value.byteLength };
  }
  const container = decodeStored(event.kv.value, revision);
  const prev = event.prev_kv;
  if (event.kv.version === "1" || prev === undefined || prev === null) {
    return { revision, type: ContainerChangeType.CREATE, container, size: event.kv.value.byteLength };
  }
  const previous = decodeStored(prev.value, BigInt(prev.mod_revision));
  return { revision, type: ContainerChangeType.UPDATE, container, previous, size: event.kv.value.byteLength };
}

/**
 * The response that carries the change an etcd event of a container key is,
 * with the record's bytes as etcd holds them (not decoded), or undefined when
 * the event cannot be read as one (a delete without its previous value).
 */
function eventResponse(event: IEvent): WatchContainersResponse | undefined {
  const revision = BigInt(event.kv.mod_revision);
  const prev = event.prev_kv;
  let type: ContainerChangeType;
  let record: Uint8Array;
  if (event.type === "Delete") {
    if (prev === undefined || prev === null) return undefined;
    type = ContainerChangeType.DELETE;
    record = withRevision(prev.value, BigInt(prev.mod_revision));
  } else {
    type = event.kv.version === "1" || prev === undefined || prev === null ? ContainerChangeType.CREATE : ContainerChangeType.UPDATE;
    record = withRevision(event.kv.value, revision);
  }
  const change = withRecords(create(ContainerChangeSchema, { revision, type }), ContainerChangeSchema.field.container!, [record]);
  return create(WatchContainersResponseSchema, { kind: { case: "change", value: change } });
}

/** Checks start_revision against the store (OUT_OF_RANGE in the future) and returns the watch's stream. */
export async function etcdWatch(
  store: EtcdStore,
  filter: Filter,
  startRevision: bigint,
  signal: AbortSignal,
  options: WatchOptions,
): Promise<AsyncGenerator<WatchContainersResponse>> {
  const established = await store.currentRevision();
  if (startRevision > established) {
    throw new OutOfRangeError(`start_revision ${startRevision} is in the future; the current revision is ${established}`);
  }
  return follow(store, filter, startRevision === 0n ? established : startRevision, established, signal, options);
}

/** Streams the changes after `after` that filter selects, until signal aborts. */
async function* follow(
  store: EtcdStore,
  filter: Filter,
  after: bigint,
  established: bigint,
  signal: AbortSignal,
  options: WatchOptions,
): AsyncGenerator<WatchContainersResponse> {
  const progressInterval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const { keys } = store;
  /** Every change of the store up to this revision has been received from etcd. */
  let passed = after;
  /** Every selected change up to this revision has been sent. */
  let cursor = after;
  let replayed = after >= established;
  // Changes received and not yet sent, from queue[head]; an event is sent as
  // etcd's bytes, or decoded when it arrives if the filter has to read it.
  let queue: Queued[] = [];
  let head = 0;
  const decodeOnArrival = filter.selectors.length > 0;
  let queuedBytes = 0;
  let overflow = false;
  let failure: Error | undefined;
  let stream: WatchStream | undefined;
  let paused = false;
  let reopen: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);

  const onResponse = (response: IWatchResponse) => {
    if (response.canceled) {
      const compactedAt = BigInt(response.compact_revision || "0");
      failure =
        compactedAt > 0n
          ? new OutOfRangeError(compacted(passed, compactedAt, passed === after ? "start_revision" : "revision"))
          : new UnavailableError(`etcd cancelled the watch: ${response.cancel_reason || "no reason given"}`);
      wake?.();
      return;
    }
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      // A reopened stream may repeat what was received.
      if (revision <= passed) continue;
      passed = revision;
      const size = (event.type === "Delete" ? event.prev_kv?.value : event.kv.value)?.byteLength ?? 0;
      if (decodeOnArrival) {
        const change = toChange(event);
        if (change === undefined || !selected(filter, change)) continue;
        queue.push({ revision, size, change });
      } else {
        queue.push({ revision, size, event });
      }
      queuedBytes += size;
      if (queuedBytes > maxQueued) {
        if (revision > established) overflow = true;
        else if (!paused) {
          paused = true;
          stream?.pause();
        }
      }
    }
    wake?.();
  };

  const open = () => {
    reopen = undefined;
    if (signal.aborted || failure !== undefined) return;
    store.client.watchClient.watch().then(
      (raw) => {
        const opening = raw as WatchStream;
        if (signal.aborted || failure !== undefined) {
          closeWatchStream(opening);
          return;
        }
        stream = opening;
        paused = false;
        const broken = () => {
          if (stream !== opening) return;
          stream = undefined;
          if (!signal.aborted && failure === undefined) reopen = setTimeout(open, REOPEN_DELAY_MS);
        };
        opening.on("data", onResponse);
        opening.on("error", broken);
        opening.on("end", broken);
        opening.write({ create_request: { key: keys.containers, range_end: keys.containersEnd, start_revision: String(passed + 1n), prev_kv: true, fragment: true } });
      },
      () => {
        if (!signal.aborted && failure === undefined) reopen = setTimeout(open, REOPEN_DELAY_MS);
      },
    );
  };

  try {
    open();
    let lastSent = Date.now();
    if (replayed) {
      yield progressResponse(established);
      lastSent = Date.now();
    }
    for (;;) {
      if (failure !== undefined) throw failure;
      if (overflow) {
        throw new ResourceExhaustedError(`the watcher has more than ${maxQueued} bytes of changes waiting to be sent; resume from revision ${cursor}`);
      }
      const next = queue[head];
      if (next !== undefined) {
        if (!replayed && next.revision > established) {
          replayed = true;
          yield progressResponse(established);
          continue;
        }
        head++;
        if (head >= 1024 && head * 2 >= queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        cursor = next.revision;
        queuedBytes -= next.size;
        if (paused && queuedBytes <= maxQueued / 2) {
          paused = false;
          stream?.resume();
        }
        const message = next.change !== undefined ? changeResponse(next.change) : next.event === undefined ? undefined : eventResponse(next.event);
        if (message === undefined) continue;
        yield message;
        lastSent = Date.now();
        continue;
      }
      // Nothing waits: every selected change received has been sent.
      if (!replayed && passed >= established) {
        replayed = true;
        cursor = established;
        yield progressResponse(established);
        lastSent = Date.now();
        continue;
      }
      if (replayed && passed > cursor) cursor = passed;
      if (signal.aborted) return;
      const wait = lastSent + progressInterval - Date.now();
      if (replayed && wait <= 0) {
        yield progressResponse(cursor);
        lastSent = Date.now();
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = replayed ? setTimeout(done, wait) : undefined;
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
    clearTimeout(reopen);
    const open = stream;
    stream = undefined;
    failure ??= new UnavailableError("the watch ended");
    if (open !== undefined) closeWatchStream(open);
  }
}
