/**
 * What the image-store component starts: the store under its root directory
 * (found again after a restart, unreferenced content collected), and
 * moby.image.v1's ImageService over it; /images/* events go to the events
 * component when there is one.
 */
import { join } from "node:path";
import { ImageService } from "@moby-core/image-api/v1";
import { EventPublisher, serviceOf } from "@moby-core/sdk";
import type { ComponentContext, ComponentStart } from "@moby-core/sdk";
import { PageTokens, loadOrCreateKey } from "@moby-core/sdk/list";
import { ImageStore } from "./image-store.js";
import { imageService } from "./image-service.js";
import { registerImageStoreMetrics } from "./image-store-metrics.js";
import type { StoreConfig } from "./store-config.js";

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Opens the store and builds the service. */
export async function startImageStore({ name, config, logger, metrics }: ComponentContext<StoreConfig>): Promise<ComponentStart> {
  const publisher = new EventPublisher({ source: name, logger });
  const store = new ImageStore(config, publisher, logger);
  await store.recover();
  store.collect();
  registerImageStoreMetrics(metrics, store, logger);
  const tokens = new PageTokens(loadOrCreateKey(join(config.root, "page-token.key")));
  return {
    services: [serviceOf(ImageService, imageService(store, tokens))],
    started(server) {
      server.logger.info({ root: config.root, images: store.db.images().length }, "image store open");
    },
    async onShutdown() {
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      store.close();
    },
  };
}
