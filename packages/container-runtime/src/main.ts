/**
 * The container-runtime component: serves moby.container.runtime.v1's
 * ContainerRuntimeService on its socket, running the containers of the
 * container store with runc. Tasks live in the state directory and outlive
 * the component; at start it finds them again.
 *
 * When runc cannot be run (not installed, not root, no perl for the shims)
 * the component still serves: its ContainerRuntimeService health is
 * NOT_SERVING with the reason in GetInfo (ServedService.not_serving_reason,
 * which init shows as the component's message, its health DEGRADED), and
 * every call fails with FAILED_PRECONDITION saying how to fix it. It
 * probes again every few seconds (and on calls), so installing runc is
 * enough: no restart, no crash loop (readiness.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ContainerRuntimeService, file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { file_moby_events_v1_task_events } from "@moby-core/events-api/v1";
import {
  EventPublisher,
  NotFoundError,
  PageTokens,
  ServingStatus,
  UnavailableError,
  createComponentLogger,
  dialComponent,
  loadOrCreateKey,
  serveComponent,
  serviceOf,
} from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { imageStoreRootfs } from "./image-rootfs.js";
import { readRuntimeConfig } from "./runtime-config.js";
import { containerRuntimeService, storeError } from "./runtime-service.js";
import { PROBE_EVERY_MS, Readiness } from "./readiness.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Starts the container-runtime component from its environment; resolves once it serves. */
export async function main(): Promise<void> {
  const name = process.env.MOBY_COMPONENT_NAME || "container-runtime";
  const logger = createComponentLogger(name);
  const config = readRuntimeConfig(JSON.parse(process.env.MOBY_COMPONENT_CONFIG || "{}"));
  const publisher = new EventPublisher({ source: name, logger });
  let key: Uint8Array;
  try {
    key = loadOrCreateKey(join(config.stateDir, "token.key"));
  } catch {
    key = randomBytes(32);
  }
  const readiness = new Readiness(config, publisher, logger);

  let store: Connection | undefined;
  async function readContainer(id: string): Promise<Container> {
    try {
      store ??= await dialComponent("container-store", { dial: { retry: false, timeoutMs: 10_000 } });
    } catch (error) {
      throw new UnavailableError(`the container store cannot be reached: ${(error as Error).message}`);
    }
    try {
      const { container } = await store.client(ContainerStoreService).getContainer({ id });
      if (container === undefined) throw new NotFoundError(`container ${JSON.stringify(id)} not found in the container store`);
      return container;
    } catch (error) {
      if (error instanceof NotFoundError) throw error;
      throw storeError(id, error);
    }
  }

  const images = imageStoreRootfs(logger);
  const service = containerRuntimeService({
    manager: () => readiness.get(),
    readContainer,
    images,
    tokens: new PageTokens(key, "this runtime"),
  });
  let prober: NodeJS.Timeout | undefined;
  const server = await serveComponent({
    name,
    kind: "moby.container-runtime",
    version,
    logger,
    services: [serviceOf(ContainerRuntimeService, service, ServingStatus.NOT_SERVING)],
    anyTypes: [file_moby_container_runtime_v1_oci_spec, file_moby_events_v1_task_events],
    async onShutdown() {
      clearInterval(prober);
      readiness.stop();
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      store?.close();
      images.close();
    },
  });
  readiness.server = server;
  await readiness.probe();
  prober = setInterval(() => {
    if (!readiness.ready) void readiness.probe();
  }, PROBE_EVERY_MS);
  prober.unref();
}
