/**
 * The image-store component: serves moby.image.v1's ImageService on its
 * socket, with content, snapshots and root filesystems under its root
 * directory, metadata in SQLite, and /images/* events published to the
 * events component when there is one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ImageService } from "@moby-core/image-api/v1";
import { EventPublisher, PageTokens, createComponentLogger, loadOrCreateKey, serveComponent, serviceOf } from "@moby-core/sdk";
import { ImageStore } from "./image-store.js";
import { imageService } from "./image-service.js";
import { readStoreConfig } from "./store-config.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** How long shutdown waits for queued events to reach the events component, in ms. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Starts the image-store component from its environment; resolves once it serves. */
export async function main(): Promise<void> {
  const name = process.env.MOBY_COMPONENT_NAME || "image-store";
  const logger = createComponentLogger(name);
  const config = readStoreConfig(JSON.parse(process.env.MOBY_COMPONENT_CONFIG || "{}"));
  const publisher = new EventPublisher({ source: name, logger });
  const store = new ImageStore(config, publisher, logger);
  await store.recover();
  store.collect();
  const tokens = new PageTokens(loadOrCreateKey(join(config.root, "page-token.key")));
  const server = await serveComponent({
    name,
    kind: "moby.image-store",
    version,
    logger,
    services: [serviceOf(ImageService, imageService(store, tokens))],
    async onShutdown() {
      await publisher.flush(SHUTDOWN_FLUSH_MS);
      publisher.close();
      store.close();
    },
  });
  server.logger.info({ root: config.root, images: store.db.images().length }, "image store open");
}
