/**
 * What the container-store component starts: the records in the configured
 * backend (SQLite under the run directory by default, or an etcd cluster),
 * ContainerStoreService, events published to the events component when there
 * is one, and Reload (new history retention on SQLite, snapshot limits on
 * both).
 *
 * SQLite opens before the component serves, and a failure fails start-up.
 * etcd is tried once before serving too; while no member can be reached the
 * component serves anyway, ContainerStoreService NOT_SERVING with the reason
 * and its calls UNAVAILABLE, and etcd is tried again until it answers: then
 * the service is built and SERVING, with no restart (BackendOpening).
 */
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { BackendOpening, EventPublisher, FailedPreconditionError, ServingStatus } from "@moby-core/sdk";
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

/** Opens the configured backend: SQLite at once; etcd tried again while it cannot be reached. */
function openBackend({ config, logger, health }: ComponentContext<StoreConfig>): Promise<BackendOpening<ContainerBackend>> {
  const reportError = (error: unknown) => logger.error({ err: error }, "a change listener failed");
  const close = (db: ContainerBackend) => db.close();
  if (config.backend === "sqlite") {
    return BackendOpening.open({ what: "the SQLite database", logger, health, close, open: async () => new SqliteStore(config.database, config.retention, reportError) });
  }
  const service = ContainerStoreService.typeName;
  const open = () =>
    EtcdStore.open(
      config.etcd!,
      (ok, reason) => {
        if (ok) logger.info("etcd answers again");
        else logger.warn({ reason }, "etcd cannot be reached");
        health.set(service, ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING, reason);
      },
      reportError,
    );
  return BackendOpening.open<ContainerBackend>({ what: "etcd", logger, health, close, open });
}

/** Logs where the store is open and its revision; a failure to read the revision is logged, not thrown. */
async function logOpen(db: ContainerBackend, { config, logger }: ComponentContext<StoreConfig>): Promise<void> {
  const revision = await db.currentRevision();
  logger.info({ ...db.location, revision: String(revision), ...(config.backend === "sqlite" ? { retention: config.retention } : {}) }, "container store open");
}

/** Opens the backend and builds the service (once the backend is open, when etcd cannot be reached at start). */
export async function startStore(context: ComponentContext<StoreConfig>): Promise<ComponentStart> {
  const { name, config, logger, metrics } = context;
  const backend = await openBackend(context);
  const openAtStart = backend.backend !== undefined;
  const publisher = new EventPublisher({ source: name, logger });
  const snapshots = new SnapshotSlots(config.maxSnapshots);
  let stopPublishing = () => {};
  const service = backend.serviceOf(ContainerStoreService, (db) => {
    stopPublishing = publishContainerEvents(db, publisher);
    const watches = registerStoreMetrics(metrics, db);
    return containerStoreService(db, { stats: watches }, snapshots);
  });
  if (!openAtStart) {
    backend.whenOpen((db) => {
      logOpen(db, context).catch((error: unknown) => logger.warn({ err: error }, "container store open, its revision not read yet"));
    });
  }
  return {
    services: [service],
    anyTypes: [file_moby_container_runtime_v1_oci_spec],
    async started() {
      if (openAtStart) await logOpen(backend.backend!, context);
    },
    async onShutdown() {
      stopPublishing();
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      await backend.close();
    },
    reload(next, { validateOnly }) {
      const parsed = readStoreConfig(next);
      if (parsed.backend !== config.backend) throw new FailedPreconditionError("config.backend changes only with a restart");
      if (parsed.database !== config.database) throw new FailedPreconditionError("config.database changes only with a restart");
      if (JSON.stringify(parsed.etcd) !== JSON.stringify(config.etcd)) throw new FailedPreconditionError("config.etcd changes only with a restart");
      if (validateOnly) return;
      snapshots.max = parsed.maxSnapshots;
      const db = backend.backend;
      if (db instanceof SqliteStore) db.setRetention(parsed.retention);
    },
  };
}
