/**
 * What the container-store component starts: the records in the configured
 * backend (SQLite under the run directory by default, or an etcd cluster),
 * ContainerStoreService, events published to the events component when there
 * is one, and Reload (new history retention on SQLite, snapshot limits on
 * both).
 */
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { EventPublisher, FailedPreconditionError, ServingStatus, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart } from "@moby-core/sdk";
import type { ContainerBackend } from "./container-backend.js";
import { publishContainerEvents } from "./container-events.js";
import { containerStoreService } from "./container-service.js";
import { SnapshotSlots } from "./container-snapshot.js";
import { EtcdStore } from "./etcd-store.js";
import { SqliteStore } from "./sqlite-store.js";
import { registerStoreMetrics } from "./store-metrics.js";
import { readStoreConfig } from "./store-config.js";
import type { StoreConfig } from "./store-config.js";

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Opens the configured backend. */
async function openBackend({ config, logger, health }: ComponentContext<StoreConfig>): Promise<ContainerBackend> {
  const reportError = (error: unknown) => logger.error({ err: error }, "a change listener failed");
  if (config.backend === "sqlite") return new SqliteStore(config.database, config.retention, reportError);
  const service = ContainerStoreService.typeName;
  return EtcdStore.open(
    config.etcd!,
    (ok, reason) => {
      if (ok) logger.info("etcd answers again");
      else logger.warn({ reason }, "etcd cannot be reached");
      health.set(service, ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING, reason);
    },
    reportError,
  );
}

/** Opens the backend and builds the service. */
export async function startStore(context: ComponentContext<StoreConfig>): Promise<ComponentStart> {
  const { name, config, logger, metrics } = context;
  const db = await openBackend(context);
  const publisher = new EventPublisher({ source: name, logger });
  const stopPublishing = publishContainerEvents(db, publisher);
  const snapshots = new SnapshotSlots(config.maxSnapshots);
  const watches = registerStoreMetrics(metrics, db);
  return {
    services: [serviceOf(ContainerStoreService, containerStoreService(db, { stats: watches }, snapshots))],
    anyTypes: [file_moby_container_runtime_v1_oci_spec],
    async started() {
      const revision = await db.currentRevision();
      logger.info({ ...db.location, revision: String(revision), ...(config.backend === "sqlite" ? { retention: config.retention } : {}) }, "container store open");
    },
    async onShutdown() {
      stopPublishing();
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      await db.close();
    },
    reload(next, { validateOnly }) {
      const parsed = readStoreConfig(next);
      if (parsed.backend !== config.backend) throw new FailedPreconditionError("config.backend changes only with a restart");
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (JSON.stringify(parsed.etcd) !== JSON.stringify(config.etcd)) throw new FailedPreconditionError("config.etcd changes only with a restart");
      if (validateOnly) return;
      snapshots.max = parsed.maxSnapshots;
      if (db instanceof SqliteStore) db.setRetention(parsed.retention);
    },
  };
}
