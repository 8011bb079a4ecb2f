// image-store's own metrics move as it pulls: a real component process, a
// real registry (Debian's docker-registry), read through GetMetrics and
// checked by promtool and by a parser of the text format.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ComponentService } from "@moby-core/component-api/v1";
import { ImageService } from "@moby-core/image-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { ImageRegistry } from "../support/image-registry.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";
import { buildImage, pushImage, tarOf } from "../support/test-images.js";
import type { BuiltImage } from "../support/test-images.js";

describe("image-store metrics", { skip: process.getuid?.() === 0 ? false : "needs root (layers are unpacked with their owners)" }, () => {
  const scratch = scratchDirectory("moby-is-metrics-");
  const registry = new ImageRegistry(join(scratch.dir, "registry"));
  const socketPath = join(scratch.dir, "is.sock");
  let store: ComponentProcess;
  let connection: Connection;
  let image: BuiltImage;

  before(async () => {
    mkdirSync(join(scratch.dir, "registry"), { recursive: true });
    await registry.start();
    image = buildImage([await tarOf([{ name: "hello.txt", content: "hello\n" }])], { Cmd: ["cat", "/hello.txt"] });
    await pushImage(registry, "test/metrics", "1.0", image);
    store = new ComponentProcess("packages/image-store/bin/moby-image-store.js", {
      MOBY_SOCKET: socketPath,
      MOBY_COMPONENT_NAME: "image-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: join(scratch.dir, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify({ root: join(scratch.dir, "state"), insecureRegistries: [registry.host] }),
    });
    await store.waitForSocket(socketPath);
    connection = dialSocket(socketPath, { retry: false });
  });

  after(async () => {
    connection?.close();
    await store?.stop();
    await registry.stop();
    scratch.remove();
  });

  const metrics = async () => {
    const { text } = await connection.client(ComponentService).getMetrics({});
    promtoolCheck(text);
    return parseExposition(text);
  };

  it("counts pulls by outcome, the bytes pulled, and what the store holds", async () => {
    const before = await metrics();
    assert.equal(sampleValue(before, "moby_image_store_images"), 0);
    assert.equal(sampleValue(before, "moby_image_store_content_bytes"), 0);
    for await (const _ of connection.client(ImageService).pullImage({ reference: `${registry.host}/test/metrics:1.0` }));
    await assert.rejects(async () => {
      for await (const _ of connection.client(ImageService).pullImage({ reference: `${registry.host}/test/missing:1.0` }));
    });
    const now = await metrics();
    assert.equal(sampleValue(now, "moby_image_store_pulls_total", { outcome: "succeeded" }), 1);
    assert.equal(sampleValue(now, "moby_image_store_pulls_total", { outcome: "failed" }), 1);
    // Everything the registry sent: the manifest, the config and the one layer.
    const sent = [...image.blobs.values()].reduce((sum, blob) => sum + blob.byteLength, image.manifest.byteLength);
    assert.equal(sampleValue(now, "moby_image_store_pulled_bytes_total"), sent);
    assert.equal(sampleValue(now, "moby_image_store_images"), 1);
    assert.equal(sampleValue(now, "moby_image_store_content_blobs"), 3);
    assert.equal(sampleValue(now, "moby_image_store_content_bytes"), sent);
  });
});
