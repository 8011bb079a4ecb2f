/**
 * The events component: serves moby.events.v1.EventsService on its socket,
 * with the log in SQLite under the run directory, retention applied every
 * second, and Reload for new retention settings.
 */
import { readFileSync } from "node:fs";
import {
  EventsService,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import { FailedPreconditionError, serveComponent, serviceOf } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import { EventLog } from "./event-log.js";
import { eventsService } from "./events-service.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** How often retention by age is applied, in ms. */
const EXPIRE_EVERY_MS = 1000;

/** Starts the events component from its environment; resolves once it serves. */
export async function main(): Promise<void> {
  const config = readEventsConfig(JSON.parse(process.env.MOBY_COMPONENT_CONFIG || "{}"));
  const log = new EventLog(config.database, config.retention);
  const settings = { subscriberBufferEvents: config.subscriberBufferEvents };
  const service = eventsService(log, settings);
  let expiry: NodeJS.Timeout | undefined;
  const server = await serveComponent({
    name: process.env.MOBY_COMPONENT_NAME ?? "events",
    kind: "moby.events",
    version,
    services: [serviceOf(EventsService, service)],
    anyTypes: [file_moby_events_v1_container_events, file_moby_events_v1_task_events, file_moby_events_v1_component_events],
    onShutdown() {
      clearInterval(expiry);
      log.close();
    },
    reload(next, { validateOnly }) {
      const parsed = readEventsConfig(next);
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (validateOnly) return;
      log.retention = parsed.retention;
      settings.subscriberBufferEvents = parsed.subscriberBufferEvents;
      log.expire(Date.now());
    },
  });
  expiry = setInterval(() => log.expire(Date.now()), EXPIRE_EVERY_MS);
  expiry.unref();
  server.logger.info({ database: config.database, retention: config.retention }, "event log open");
}
