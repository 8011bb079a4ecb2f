/**
 * The container-store component: serves moby.container.store.v1's
 * ContainerStoreService on its socket, with the records in SQLite under the
 * run directory, events published to the events component when there is
 * one, and Reload for new history retention.
 */
import { readFileSync } from "node:fs";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { EventPublisher, FailedPreconditionError, createComponentLogger, serveComponent, serviceOf } from "@moby-core/sdk";
import { ContainerDatabase } from "./container-database.js";
import { publishContainerEvents } from "./container-events.js";
import { containerStoreService } from "./container-service.js";
import { SnapshotSlots } from "./container-snapshot.js";
import { readStoreConfig } from "./store-config.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Starts the container-store component from its environment; resolves once it serves. */
export async function main(): Promise<void> {
  const name = process.env.MOBY_COMPONENT_NAME || "container-store";
  const logger = createComponentLogger(name);
  const config = readStoreConfig(JSON.parse(process.env.MOBY_COMPONENT_CONFIG || "{}"));
  const db = new ContainerDatabase(config.database, config.retention, (error) => logger.error({ err: error }, "a change listener failed"));
  const publisher = new EventPublisher({ source: name, logger });
  const stopPublishing = publishContainerEvents(db, publisher);
  const snapshots = new SnapshotSlots(config.maxSnapshots);
  const server = await serveComponent({
    name,
    kind: "moby.container-store",
    version,
    logger,
    services: [serviceOf(ContainerStoreService, containerStoreService(db, {}, snapshots))],
    anyTypes: [file_moby_container_runtime_v1_oci_spec],
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
  });
  server.logger.info({ database: config.database, revision: String(db.currentRevision()), retention: config.retention }, "container store open");
}
