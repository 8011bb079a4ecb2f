/**
 * moby.events.v1.EventsService over the durable log: Publish with group
 * commit and idempotency, Subscribe with replay and filters, GetStatus.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError, OutOfRangeError } from "@moby-core/sdk";
import type { GroupCommit } from "@moby-core/sdk";
import { parseFilter } from "@moby-core/sdk/list";
import { EventsService, GetStatusResponseSchema, StartPosition } from "@moby-core/events-api/v1";
import type { SubscribeRequest } from "@moby-core/events-api/v1";
import type { Appended, EventLog, NewEvent } from "./event-log.js";
import { eventCommits } from "./group-commit.js";
import { checkPublish } from "./publish-rules.js";
import { SubscriberHub, subscribe } from "./subscription.js";

/** The most filters in one Subscribe; each is at most MAX_FILTER_LENGTH bytes (parseFilter refuses a longer one). */
export const MAX_FILTERS = 32;

const FILTER_FIELDS = { exact: ["topic", "source"] };

/** What the service needs besides the log: the live subscriber bound, which Reload may change. */
export interface EventsSettings {
  subscriberBufferEvents: number;
}

/** The sequence a subscription starts after, checked against what the log holds. */
function startAfter(log: EventLog, request: SubscribeRequest): bigint {
  const latest = log.latest();
  if (request.start !== StartPosition.AFTER_SEQUENCE) {
    if (request.afterSequence !== 0n) throw new InvalidArgumentError("after_sequence", "is set without START_POSITION_AFTER_SEQUENCE");
    return request.start === StartPosition.OLDEST ? log.oldest() - 1n : latest;
  }
  const oldest = log.oldest();
  if (request.afterSequence + 1n < oldest) {
    throw new OutOfRangeError(`after_sequence ${request.afterSequence} is older than the retained log: the oldest retained sequence is ${oldest}`);
  }
  if (request.afterSequence > latest) {
    throw new OutOfRangeError(`after_sequence ${request.afterSequence} is past the latest sequence ${latest}`);
  }
  return request.afterSequence;
}

/** The implementation of EventsService. */
/** What the service counts, for the component's metrics. */
export interface PublishCounts {
  /** Publish calls whose event was stored. */
  stored: number;
  /** Publish calls answered as duplicates (their publish id was seen): nothing stored. */
  duplicates: number;
}

/** The implementation of EventsService, with its subscriber hub, group commit and publish counts. */
export function eventsService(
  log: EventLog,
  settings: EventsSettings,
): Partial<ServiceImpl<typeof EventsService>> & { hub: SubscriberHub; commits: GroupCommit<NewEvent, Appended>; publishes: PublishCounts } {
  const hub = new SubscriberHub();
  hub.delivered = log.latest();
  // Subscribers' filters run on the next turn, not in the commit's: the publishers' answers go out
  // first, whatever the subscribers ask for. Broadcasts keep the commits' order (setImmediate is FIFO),
  // and a subscriber that joins meanwhile has read the events from the log (the hub's copies are skipped).
  const commits = eventCommits(log, (events) => setImmediate(() => hub.broadcast(events)));
  const publishes: PublishCounts = { stored: 0, duplicates: 0 };
  return {
    hub,
    commits,
    publishes,
    async publish(request) {
      checkPublish(request);
      const { event, duplicate } = await commits.add({
        source: request.source,
        topic: request.topic,
        typeUrl: request.event!.typeUrl,
        value: request.event!.value,
        publishId: request.publishId,
      });
      if (duplicate) publishes.duplicates++;
      else publishes.stored++;
      return { sequence: event.sequence, timestamp: timestampFromMs(event.timeMs), duplicate };
    },
    subscribe(request, context) {
      if (request.filters.length > MAX_FILTERS) throw new InvalidArgumentError("filters", `more than ${MAX_FILTERS} filters`);
      const filters = request.filters.map((text, i) => {
        return parseFilter(text, FILTER_FIELDS, `filters[${i}]`);
      });
      const after = startAfter(log, request);
      return subscribe(log, hub, filters, after, settings.subscriberBufferEvents, context.signal);
    },
    getStatus() {
      const { events, bytes } = log.size();
      const latest = log.latest();
      const oldest = log.oldest();
      return create(GetStatusResponseSchema, {
        oldestSequence: oldest > latest ? 0n : oldest,
        latestSequence: latest,
        retainedEvents: BigInt(events),
        retainedBytes: BigInt(bytes),
        retention: {
          maxEvents: BigInt(log.retention.maxEvents),
          maxBytes: BigInt(log.retention.maxBytes),
          maxAge: durationFromMs(log.retention.maxAgeMs),
        },
        subscriberBufferEvents: settings.subscriberBufferEvents,
      });
    },
  };
}
