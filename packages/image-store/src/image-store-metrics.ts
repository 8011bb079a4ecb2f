/**
 * image-store's own metrics, next to what the SDK exports for every
 * component: pulls by outcome, the bytes received from registries, and
 * what the store holds (images, content blobs and their bytes on disk).
 */
import type { ComponentMetrics } from "@moby-core/sdk";
import type { Logger } from "pino";
import type { ImageStore } from "./image-store.js";

/** Registers the image store's metrics over store. */
export function registerImageStoreMetrics(metrics: ComponentMetrics, store: ImageStore, logger: Logger): void {
  metrics.counter({
    name: "moby_image_store_pulls_total",
    help: "Pulls since the component started, by outcome: succeeded (the image is recorded) or failed.",
    labelNames: ["outcome"] as const,
    collect() {
      this.reset();
      this.inc({ outcome: "succeeded" }, store.pulls.succeeded);
      this.inc({ outcome: "failed" }, store.pulls.failed);
    },
  });
  metrics.counter({
    name: "moby_image_store_pulled_bytes_total",
    help: "Bytes received from registries by pulls (manifests and blobs) since the component started.",
    collect() {
      this.reset();
      this.inc(store.pulls.received.bytes);
    },
  });
  metrics.gauge({
    name: "moby_image_store_images",
    help: "How many images (names) the store holds.",
    collect() {
      this.set(store.db.images().length);
    },
  });
  // Both read the content directory; a blob removed meanwhile (garbage collection) is skipped.
  const content = () => {
    let blobs = 0;
    let bytes = 0;
    for (const digest of store.content.list()) {
      try {
        bytes += store.content.size(digest);
        blobs++;
      } catch (error) {
        logger.debug({ err: error, digest }, "a blob went away while measuring the store");
      }
    }
    return { blobs, bytes };
  };
  metrics.gauge({
    name: "moby_image_store_content_blobs",
    help: "How many content blobs (manifests, configs, layers) the store holds.",
    collect() {
      this.set(content().blobs);
    },
  });
  metrics.gauge({
    name: "moby_image_store_content_bytes",
    help: "The bytes of the content blobs the store holds, as stored (compressed layers as pulled).",
    collect() {
      this.set(content().bytes);
    },
  });
}
