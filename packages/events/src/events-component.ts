/**
 * What the events component starts: the log (SQLite under the run directory
 * by default, or a NATS JetStream stream), retention by age applied every
 * second where the backend does not apply it itself, EventsService, and
 * Reload for new retention settings.
 *
 * SQLite opens before the component serves, and a failure fails start-up.
 * NATS is tried once before serving too; while it cannot be reached (or
 * JetStream cannot answer yet) the component serves anyway, EventsService
 * NOT_SERVING with the reason and its calls UNAVAILABLE, and the stream is
 * opened again until it can be: then the service is built and SERVING, with
 * no restart (BackendOpening).
 */
import {
  EventsService,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import { BackendOpening, FailedPreconditionError, ServingStatus } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart, Logger } from "@moby-core/sdk";
import { readEventsConfig } from "./events-config.js";
import type { EventsConfig } from "./events-config.js";
import type { EventLog, Retention } from "./backend/event-log.js";
import { JetStreamLog } from "./backend/jetstream-log.js";
import { SqliteLog } from "./backend/sqlite-log.js";
import { eventsService } from "./events-service.js";
import { registerEventsMetrics } from "./events-metrics.js";

/** How often retention by age is applied, in ms. */
const EXPIRE_EVERY_MS = 1000;

/**
 * Opens the configured backend's log: SQLite at once; a JetStream log tried
 * again while NATS cannot be reached, with the retention of the last Reload,
 * and once open reports on health whether it can write.
 */
function openLog({ config, logger, health }: ComponentContext<EventsConfig>, retention: () => Retention): Promise<BackendOpening<EventLog>> {
  const close = (log: EventLog) => log.close();
  if (config.backend === "sqlite") {
    const open = async () =>
      new SqliteLog(config.database, config.retention, (error) =>
        logger.error({ err: error }, "retention failed after a commit; the committed events stand, and retention is tried again with the next commit"),
      );
    return BackendOpening.open<EventLog>({ what: "the SQLite database", logger, health, close, open });
  }
  const service = EventsService.typeName;
  const open = () =>
    JetStreamLog.open(config.nats!, retention(), (writable, reason) => {
      health.set(service, writable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING, reason);
      if (writable) logger.info({ stream: config.nats!.stream }, "the JetStream stream is writable again");
      else logger.warn({ stream: config.nats!.stream, reason }, "the JetStream stream cannot be written; publishes answer UNAVAILABLE until it can");
    });
  return BackendOpening.open<EventLog>({ what: `the JetStream stream ${config.nats!.stream}`, logger, health, close, open });
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

/** Opens the log and builds the service (once the log is open, when NATS cannot be reached at start); retention by age runs once both serve. */
export async function startEvents(context: ComponentContext<EventsConfig>): Promise<ComponentStart> {
  const { config, logger, metrics } = context;
  let retention = config.retention;
  const backend = await openLog(context, () => retention);
  const settings = { subscriberBufferEvents: config.subscriberBufferEvents };
  let expiry: NodeJS.Timeout | undefined;
  const service = backend.serviceOf(EventsService, (log) => {
    const implementation = eventsService(log, settings);
    registerEventsMetrics(metrics, log, implementation);
    return implementation;
  });
  /** Starts retention by age on the open log and says where it is. */
  const begin = (log: EventLog) => {
    expiry = setInterval(expirer(log, logger), EXPIRE_EVERY_MS);
    expiry.unref();
    logger.info({ ...where(config), retention: log.retention }, "event log open");
  };
  return {
    services: [service],
    anyTypes: [file_moby_events_v1_container_events, file_moby_events_v1_task_events, file_moby_events_v1_component_events],
    started() {
      backend.whenOpen(begin);
    },
    async onShutdown() {
      clearInterval(expiry);
      await backend.close();
    },
    async reload(next, { validateOnly }) {
      const parsed = readEventsConfig(next);
      if (parsed.backend !== config.backend) throw new FailedPreconditionError("config.backend changes only with a restart");
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (JSON.stringify(parsed.nats) !== JSON.stringify(config.nats)) throw new FailedPreconditionError("config.nats changes only with a restart");
      if (validateOnly) return;
      // Not open yet: the stream is opened with it.
      if (backend.backend !== undefined) await backend.backend.setRetention(parsed.retention);
      retention = parsed.retention;
      settings.subscriberBufferEvents = parsed.subscriberBufferEvents;
    },
  };
}
