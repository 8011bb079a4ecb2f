/**
 * What the container-store component starts: the records in SQLite under
 * the run directory, ContainerStoreService, events published to the events
 * component when there is one, and Reload for new history retention.
 */
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { EventPublisher, FailedPreconditionError, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart } from "@moby-core/sdk";
import { ContainerDatabase } from "./container-database.js";
import { publishContainerEvents } from "./container-events.js";
import { containerStoreService } from "./container-service.js";
import { SnapshotSlots } from "./container-snapshot.js";
import { registerStoreMetrics } from "./store-metrics.js";
import { readStoreConfig } from "./store-config.js";
import type { StoreConfig } from "./store-config.js";

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Opens the database and builds the service. */
export function startStore({ name, config, logger, metrics }: ComponentContext<StoreConfig>): ComponentStart {
  const db = new ContainerDatabase(config.database, config.retention, (error) => logger.error({ err: error }, "a change listener failed"));
  const publisher = new EventPublisher({ source: name, logger });
  const stopPublishing = publishContainerEvents(db, publisher);
  const snapshots = new SnapshotSlots(config.maxSnapshots);
  const watches = registerStoreMetrics(metrics, db);
  return {
    services: [serviceOf(ContainerStoreService, containerStoreService(db, { stats: watches }, snapshots))],
    anyTypes: [file_moby_container_runtime_v1_oci_spec],
    started() {
      logger.info({ database: config.database, revision: String(db.currentRevision()), retention: config.retention }, "container store open");
    },
    async onShutdown() {
      stopPublishing();
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      db.close();
    },
    reload(next, { validateOnly }) {
      const parsed = readStoreConfig(next);
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (validateOnly) return;
      db.retention = parsed.retention;
      snapshots.max = parsed.maxSnapshots;
      db.trim();
    },
  };
}
