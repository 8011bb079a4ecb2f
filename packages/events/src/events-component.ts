/**
 * What the events component starts: the log in SQLite under the run
 * directory, retention applied every second, EventsService, and Reload for
 * new retention settings.
 */
import {
  EventsService,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import { FailedPreconditionError, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import type { EventsConfig } from "./events-config.js";
import { EventLog } from "./event-log.js";
import { eventsService } from "./events-service.js";
import { registerEventsMetrics } from "./events-metrics.js";

/** How often retention by age is applied, in ms. */
const EXPIRE_EVERY_MS = 1000;

/** Opens the log and builds the service; retention by age runs once the component serves. */
export function startEvents({ config, logger, metrics }: ComponentContext<EventsConfig>): ComponentStart {
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
  let expiry: NodeJS.Timeout | undefined;
  const service = eventsService(log, settings);
  registerEventsMetrics(metrics, log, service);
  return {
    services: [serviceOf(EventsService, service)],
    anyTypes: [file_moby_events_v1_container_events, file_moby_events_v1_task_events, file_moby_events_v1_component_events],
    started() {
      expiry = setInterval(expire, EXPIRE_EVERY_MS);
      expiry.unref();
      logger.info({ database: config.database, retention: config.retention }, "event log open");
    },
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
  };
}
