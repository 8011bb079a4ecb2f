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
import { FailedPreconditionError, createComponentLogger, serveComponent, serviceOf } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import { EventLog } from "./event-log.js";
import { eventsService } from "./events-service.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** How often retention by age is applied, in ms. */
const EXPIRE_EVERY_MS = 1000;

/** Starts the events component from its environment; resolves once it serves. */
export async function main(): Promise<void> {
  const config = readEventsConfig(JSON.parse(process.env.MOBY_COMPONENT_CONFIG || "{}"));
  const name = process.env.MOBY_COMPONENT_NAME ?? "events";
  const logger = createComponentLogger(name);
  const log = new EventLog(config.database, config.retention, (error) =>
    logger.error({ err: error }, "retention failed after a commit; the committed events stand, and retention is tried again with the next commit"),
  );
  /** Applies retention by age now; a failure is logged and tried again on the next tick. */
  const expire = () => {
    try {
      log.expire(Date.now());
    } catch (error) {
      logger.error({ err: error }, `retention failed; tried again in ${EXPIRE_EVERY_MS} ms`);
    }
  };
  const settings = { subscriberBufferEvents: config.subscriberBufferEvents };
  const service = eventsService(log, settings);
  let expiry: NodeJS.Timeout | undefined;
  await serveComponent({
    name,
    kind: "moby.events",
    version,
    logger,
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
      expire();
    },
  });
  expiry = setInterval(expire, EXPIRE_EVERY_MS);
  expiry.unref();
  logger.info({ database: config.database, retention: config.retention }, "event log open");
}
