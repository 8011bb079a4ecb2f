/**
 * One subscriber's stream: replayed from the log from its start position,
 * then live, in sequence order with no gap and no duplicate. Live events wait
 * in a bounded buffer; a subscriber that lets it overflow, or whose next
 * event was dropped by retention before it was sent, is ended with
 * RESOURCE_EXHAUSTED and resumes from its last sequence. Sequences are
 * checked to follow each other, replayed and live: a gap (a shared log's tail
 * that was cut off while retention dropped events) ends the stream the same
 * way, naming the first lost sequence, never passing it on silently.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { ResourceExhaustedError } from "@moby-core/sdk";
import { matchesFilter } from "@moby-core/sdk/list";
import type { Filter } from "@moby-core/sdk/list";
import { SubscribeResponseSchema } from "@moby-core/events-api/v1";
import type { SubscribeResponse } from "@moby-core/events-api/v1";
import type { EventLog, ReplayReader, StoredEvent } from "./backend/event-log.js";
import { envelopeFieldPayload } from "./envelope-wire.js";

/** SubscribeResponse's envelope field number. */
const ENVELOPE_FIELD = SubscribeResponseSchema.field.envelope!.number;

/** Events read from the log per query while replaying; the replay yields to the event loop after each page. */
export const REPLAY_PAGE = 512;
/** A progress message is sent after this long with nothing sent while events were filtered out, replaying or live. */
export const PROGRESS_INTERVAL_MS = 5000;

/** Tells whether an event is selected: no filter, or any filter matches (OR). */
export function selected(filters: Filter[], event: StoredEvent): boolean {
  if (filters.length === 0) return true;
  const read = (path: string[]) => (path.length !== 1 ? undefined : path[0] === "topic" ? event.topic : path[0] === "source" ? event.source : undefined);
  return filters.some((filter) => matchesFilter(filter, read));
}

/** The response of each event, made once for every subscriber it goes to (the live events are one object each for all). */
const responses = new WeakMap<StoredEvent, SubscribeResponse>();

/**
 * The response carrying one event: its envelope goes as a field already
 * encoded (an unknown field of the envelope's number, which protobuf-es
 * writes as it is and every client reads as the envelope), so each event is
 * encoded once, by hand, however many subscribers it goes to, and an event
 * read from JetStream is sent as the bytes the stream holds. The response is
 * shared: nothing changes it once made.
 */
function envelopeResponse(event: StoredEvent): SubscribeResponse {
  let response = responses.get(event);
  if (response === undefined) {
    response = create(SubscribeResponseSchema, { resumeAfterSequence: event.sequence });
    response.$unknown = [{ no: ENVELOPE_FIELD, wireType: WireType.LengthDelimited, data: envelopeFieldPayload(event) }];
    responses.set(event, response);
  }
  return response;
}

/** Why a stream ends when the events from first to next - 1 were dropped before they could be sent to it. */
function lostMessage(first: bigint, next: bigint, cursor: bigint): string {
  const which = next - first === 1n ? `the event at sequence ${first} was` : `the events at sequences ${first} to ${next - 1n} were`;
  return `${which} dropped by retention before they could be sent: the first lost sequence is ${first}; resume after sequence ${cursor}`;
}

/** A progress response: the stream is live up to sequence. */
function progressResponse(sequence: bigint): SubscribeResponse {
  return create(SubscribeResponseSchema, { resumeAfterSequence: sequence });
}

/** The set of live subscribers, told of every committed event. */
export class SubscriberHub {
  private readonly subscribers = new Set<(events: StoredEvent[]) => void>();
  /**
   * The sequence up to which every committed event has been handed to the
   * live subscribers. Commits are broadcast a turn after they commit, so the
   * log may be ahead of it; a subscriber reports progress only up to here.
   */
  delivered = 0n;
  /** How many subscribers were cut off (RESOURCE_EXHAUSTED): they fell behind, or retention dropped what they had still to read. */
  cutOff = 0;

  /** Hands committed events to every live subscriber. */
  broadcast(events: StoredEvent[]): void {
    if (events.length > 0) this.delivered = events[events.length - 1]!.sequence;
    for (const subscriber of this.subscribers) subscriber(events);
  }

  /** Registers a subscriber until the returned function is called. */
  add(subscriber: (events: StoredEvent[]) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** How many subscribers are live. */
  get size(): number {
    return this.subscribers.size;
  }
}

/**
 * Streams the events after `after` that the filters select: replays the log,
 * then follows the hub, until signal aborts. `after` may be a function that
 * finds it (and throws what refuses the start): it runs inside the stream, so
 * the stream is the only generator between the log and the client.
 * progressIntervalMs is how long the stream may go without a message while
 * events are filtered out.
 */
export async function* subscribe(
  log: EventLog,
  hub: SubscriberHub,
  filters: Filter[],
  after: bigint | (() => Promise<bigint>),
  bufferLimit: number,
  signal: AbortSignal,
  progressIntervalMs = PROGRESS_INTERVAL_MS,
): AsyncGenerator<SubscribeResponse> {
  let cursor = typeof after === "bigint" ? after : await after();
  yield progressResponse(cursor);
  let lastSentAt = performance.now();

  // Replay from the log until caught up with what the hub has handed out, a
  // page at a time, yielding to the event loop between pages so commits and
  // other calls go on meanwhile. Checking that the cursor reached the hub and
  // joining the hub happen in one synchronous step, so no event can fall
  // between them; the hub's copies of events already replayed are skipped.
  const live: StoredEvent[] = [];
  let overflow = false;
  /** The first sequence the hub skipped for this subscriber (retention dropped it before the log's tail read it), once it did. */
  let lost: { first: bigint; next: bigint } | undefined;
  /** Once live, the last sequence the hub handed this subscriber or it had passed: every hub event must follow it without a gap. */
  let seen = 0n;
  let wake: (() => void) | undefined;
  let leave: (() => void) | undefined;
  let reader: ReplayReader | undefined;
  try {
    for (;;) {
      if (signal.aborted) return;
      if (cursor >= hub.delivered) {
        seen = cursor;
        leave = hub.add((events) => {
          let added = false;
          for (const event of events) {
            if (event.sequence <= seen) continue;
            if (event.sequence > seen + 1n) {
              // A gap: stop buffering; what came before it is sent, then the stream ends.
              lost = { first: seen + 1n, next: event.sequence };
              leave?.();
              wake?.();
              return;
            }
            seen = event.sequence;
            if (!selected(filters, event)) continue;
            live.push(event);
            added = true;
            if (live.length > bufferLimit) {
              // Cut off: stop buffering at once, whether or not the stream is being read.
              overflow = true;
              live.length = 0;
              leave?.();
              break;
            }
          }
          // Only a selected event ends the wait: filtered-out ones must not restart the progress timer.
          if (added) wake?.();
        });
        break;
      }
      reader ??= log.replay(cursor);
      const page = await reader.read(REPLAY_PAGE, hub.delivered);
      if (signal.aborted) return;
      const first = page[0];
      if (first === undefined || first.sequence > cursor + 1n) {
        const oldest = first === undefined ? (await log.status()).oldest : first.sequence;
        hub.cutOff++;
        throw new ResourceExhaustedError(`events after sequence ${cursor} were dropped by retention before they were sent; the oldest kept is ${oldest}`);
      }
      for (const event of page) {
        if (event.sequence > cursor + 1n) {
          // Within a page too: a reader whose consumer restarted may have jumped what retention dropped meanwhile.
          hub.cutOff++;
          throw new ResourceExhaustedError(lostMessage(cursor + 1n, event.sequence, cursor));
        }
        cursor = event.sequence;
        if (selected(filters, event)) {
          yield envelopeResponse(event);
          lastSentAt = performance.now();
        }
      }
      if (performance.now() - lastSentAt >= progressIntervalMs) {
        // Everything up to cursor was sent or filtered out: a client may resume after it.
        yield progressResponse(cursor);
        lastSentAt = performance.now();
      }
      await nextTurn();
    }
    reader?.close();
    reader = undefined;

    // Live: send what the hub hands over; report progress while events are filtered out.
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (overflow) {
          hub.cutOff++;
          throw new ResourceExhaustedError(`subscriber fell more than ${bufferLimit} events behind; resume after sequence ${cursor}`);
        }
        const next = live.shift();
        if (next !== undefined) {
          if (next.sequence <= cursor) continue;
          cursor = next.sequence;
          yield envelopeResponse(next);
          continue;
        }
        if (lost !== undefined) {
          hub.cutOff++;
          throw new ResourceExhaustedError(lostMessage(lost.first, lost.next, cursor));
        }
        if (signal.aborted) return;
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), progressIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = undefined;
        // Not log.latest(): an event committed but not yet broadcast would be skipped; nor past a gap.
        const latest = seen;
        if (timedOut && latest > cursor && live.length === 0) {
          cursor = latest;
          yield progressResponse(cursor);
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  } finally {
    reader?.close();
    leave?.();
  }
}
