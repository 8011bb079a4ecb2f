/**
 * The events component's own metrics, next to what the SDK exports for
 * every component: the log's latest and oldest sequence and what it
 * retains, publishes (stored and duplicate), live subscribers and those cut
 * off, what retention deleted, and the group commits (batch sizes, and
 * their time with the fsync).
 */
import { instrumentGroupCommit } from "@moby-core/sdk";
import type { ComponentMetrics } from "@moby-core/sdk";
import type { EventLog } from "./backend/event-log.js";
import type { eventsService } from "./events-service.js";

/** Registers the events metrics over the log and the service. */
export function registerEventsMetrics(metrics: ComponentMetrics, log: EventLog, service: ReturnType<typeof eventsService>): void {
  // One status call per scrape for the four gauges that read it (on JetStream it is a request to the stream).
  const status = metrics.perScrape(() => log.status());
  const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
    metrics.gauge({
      name,
      help,
      async collect() {
        this.set(await read());
      },
    });
  const counter = (name: string, help: string, read: () => number) =>
    metrics.counter({
      name,
      help,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge("moby_events_latest_sequence", "The sequence of the newest event published, 0 for a log never written.", async () => Number((await status()).latest));
  gauge("moby_events_oldest_sequence", "The sequence of the oldest event retained; latest + 1 when the log holds none.", async () => Number((await status()).oldest));
  gauge("moby_events_retained_events", "How many events the log holds.", async () => (await status()).events);
  gauge("moby_events_retained_bytes", "The bytes of the events the log holds (their serialized envelopes).", async () => (await status()).bytes);
  gauge("moby_events_subscribers", "How many subscribers follow the live events (past their replay).", () => service.hub.size);
  counter("moby_events_published_total", "Publish calls whose event was stored.", () => service.publishes.stored);
  counter("moby_events_publish_duplicates_total", "Publish calls answered as duplicates of an earlier publish id: nothing stored.", () => service.publishes.duplicates);
  counter(
    "moby_events_subscribers_cut_off_total",
    "Subscribers ended with RESOURCE_EXHAUSTED: they fell too far behind, or retention dropped events they had still to read.",
    () => service.hub.cutOff,
  );
  if (log.deleted !== undefined) counter("moby_events_retention_deleted_total", "Events deleted by retention (count, size or age) since the component started (SQLite; JetStream applies its limits itself).", () => log.deleted ?? 0);
  if (log.commits !== undefined) instrumentGroupCommit(metrics, "moby_events", log.commits);
}
