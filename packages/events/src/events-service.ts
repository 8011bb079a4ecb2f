/**
 * moby.events.v1.EventsService over the durable log, whichever backend keeps
 * it: Publish with idempotency, Subscribe with replay and filters, GetStatus.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError, OutOfRangeError } from "@moby-core/sdk";
import { parseFilter } from "@moby-core/sdk/list";
import { EventsService, GetStatusResponseSchema, StartPosition } from "@moby-core/events-api/v1";
import type { SubscribeRequest } from "@moby-core/events-api/v1";
import type { EventLog } from "./backend/event-log.js";
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
async function startAfter(log: EventLog, request: SubscribeRequest): Promise<bigint> {
  const { oldest, latest } = await log.status();
  if (request.start !== StartPosition.AFTER_SEQUENCE) return request.start === StartPosition.OLDEST ? oldest - 1n : latest;
  if (request.afterSequence + 1n < oldest) {
    throw new OutOfRangeError(`after_sequence ${request.afterSequence} is older than the retained log: the oldest retained sequence is ${oldest}`);
  }
  if (request.afterSequence > latest) {
    throw new OutOfRangeError(`after_sequence ${request.afterSequence} is past the latest sequence ${latest}`);
  }
  return request.afterSequence;
}

/** What the service counts, for the component's metrics. */
export interface PublishCounts {
  /** Publish calls whose event was stored. */
  stored: number;
  /** Publish calls answered as duplicates (their publish id was seen): nothing stored. */
  duplicates: number;
}

/** The implementation of EventsService, with its subscriber hub and publish counts. */
export function eventsService(
  log: EventLog,
  settings: EventsSettings,
): Partial<ServiceImpl<typeof EventsService>> & { hub: SubscriberHub; publishes: PublishCounts } {
  const hub = new SubscriberHub();
  hub.delivered = log.follow((events) => hub.broadcast(events));
  const publishes: PublishCounts = { stored: 0, duplicates: 0 };
  return {
    hub,
    publishes,
    async publish(request) {
      checkPublish(request);
      const { event, duplicate } = await log.append({
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
      if (request.start !== StartPosition.AFTER_SEQUENCE && request.afterSequence !== 0n) {
        throw new InvalidArgumentError("after_sequence", "is set without START_POSITION_AFTER_SEQUENCE");
      }
      return subscribe(log, hub, filters, () => startAfter(log, request), settings.subscriberBufferEvents, context.signal);
    },
    async getStatus() {
      const { events, bytes, latest, oldest } = await log.status();
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
