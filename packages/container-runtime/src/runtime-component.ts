/**
 * What the container-runtime component starts: ContainerRuntimeService,
 * running the containers of the container store with runc. Tasks live in
 * the state directory and outlive the component; at start it finds them
 * again.
 *
 * When runc cannot be run (not installed, not root, no perl for the shims)
 * the component still serves: its ContainerRuntimeService health is
 * NOT_SERVING with the reason in GetInfo (ServedService.not_serving_reason,
 * which init shows as the component's message, its health DEGRADED), and
 * every call fails with FAILED_PRECONDITION saying how to fix it. It
 * probes again every few seconds (and on calls), so installing runc is
 * enough: no restart, no crash loop (readiness.ts).
 */
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ContainerRuntimeService, file_moby_container_runtime_v1_oci_spec } from "@moby-core/container-runtime-api/v1";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { file_moby_events_v1_task_events } from "@moby-core/events-api/v1";
import { EventPublisher, NotFoundError, ServingStatus, UnavailableError, dialComponent, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart, Connection } from "@moby-core/sdk";
import { PageTokens, loadOrCreateKey } from "@moby-core/sdk/list";
import { imageStoreRootfs } from "./image-rootfs.js";
import type { RuntimeConfig } from "./runtime-config.js";
import { resourcesService } from "./resources-service.js";
import { containerRuntimeService, storeError } from "./runtime-service.js";
import { PROBE_EVERY_MS, Readiness } from "./readiness.js";
import { registerRuntimeMetrics } from "./runtime-metrics.js";

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Builds the service; the prerequisites are probed once the component serves, then every PROBE_EVERY_MS until met. */
export function startRuntime({ name, config, logger, health, metrics }: ComponentContext<RuntimeConfig>): ComponentStart {
  const publisher = new EventPublisher({ source: name, logger });
  let key: Uint8Array;
  try {
    key = loadOrCreateKey(join(config.stateDir, "token.key"));
  } catch {
    key = randomBytes(32);
  }
  const readiness = new Readiness(config, publisher, logger, health);
  registerRuntimeMetrics(metrics, () => readiness.current, logger);

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

  const manager = () => readiness.get();
  const images = imageStoreRootfs(logger);
  const service = {
    ...containerRuntimeService({ manager, readContainer, images, tokens: new PageTokens(key, "this runtime") }),
    ...resourcesService({ manager }),
  };
  let prober: NodeJS.Timeout | undefined;
  return {
    services: [serviceOf(ContainerRuntimeService, service, ServingStatus.NOT_SERVING)],
    anyTypes: [file_moby_container_runtime_v1_oci_spec, file_moby_events_v1_task_events],
    async started() {
      await readiness.probe();
      prober = setInterval(() => {
        if (!readiness.ready) void readiness.probe();
      }, PROBE_EVERY_MS);
      prober.unref();
    },
    async onShutdown() {
      clearInterval(prober);
      readiness.stop();
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      store?.close();
      images.close();
    },
  };
}
