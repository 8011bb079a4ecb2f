/**
 * What the events component starts: the log (SQLite under the run directory
 * by default, or a NATS JetStream stream), retention by age applied every
 * second where the backend does not apply it itself, EventsService, and
 * Reload for new retention settings.
 */
import {
  EventsService,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import { FailedPreconditionError, ServingStatus, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart, Logger } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import type { EventsConfig } from "./events-config.js";
import type { EventLog } from "./backend/event-log.js";
import { JetStreamLog } from "./backend/jetstream-log.js";
import { SqliteLog } from "./backend/sqlite-log.js";
import { eventsService } from "./events-service.js";
import { registerEventsMetrics } from "./events-metrics.js";

/** How often retention by age is applied, in ms. */
const EXPIRE_EVERY_MS = 1000;

/** Opens the configured backend's log; a JetStream log reports on health whether it can write. */
async function openLog({ config, logger, health }: ComponentContext<EventsConfig>): Promise<EventLog> {
  if (config.backend === "sqlite") {
    return new SqliteLog(config.database, config.retention, (error) =>
      logger.error({ err: error }, "retention failed after a commit; the committed events stand, and retention is tried again with the next commit"),
    );
  }
  const service = EventsService.typeName;
  return JetStreamLog.open(config.nats!, config.retention, (writable, reason) => {
    health.set(service, writable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING, reason);
    if (writable) logger.info({ stream: config.nats!.stream }, "the JetStream stream is writable again");
    else logger.warn({ stream: config.nats!.stream, reason }, "the JetStream stream cannot be written; publishes answer UNAVAILABLE until it can");
  });
}

/** Where the log is, for the log line at start. */
function where(config: EventsConfig): Record<string, unknown> {
  return config.backend === "sqlite" ? { backend: "sqlite", database: config.database } : { backend: "nats", ...config.nats };
}

/** Applies retention by age now; a failure is logged and tried again on the next tick. */
function expirer(log: EventLog, logger: Logger): () => void {
  return () => {
    try {
      log.expire(Date.now());
    } catch (error) {
      logger.error({ err: error }, `retention failed; tried again in ${EXPIRE_EVERY_MS} ms`);
    }
  };
}

/** Opens the log and builds the service; retention by age runs once the component serves. */
export async function startEvents(context: ComponentContext<EventsConfig>): Promise<ComponentStart> {
  const { config, logger, metrics } = context;
  const log = await openLog(context);
  const expire = expirer(log, logger);
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
      logger.info({ ...where(config), retention: config.retention }, "event log open");
    },
    async onShutdown() {
      clearInterval(expiry);
      await log.close();
    },
    async reload(next, { validateOnly }) {
      const parsed = readEventsConfig(next);
      if (parsed.backend !== config.backend) throw new FailedPreconditionError("config.backend changes only with a restart");
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (JSON.stringify(parsed.nats) !== JSON.stringify(config.nats)) throw new FailedPreconditionError("config.nats changes only with a restart");
      if (validateOnly) return;
      await log.setRetention(parsed.retention);
      settings.subscriberBufferEvents = parsed.subscriberBufferEvents;
    },
  };
}
