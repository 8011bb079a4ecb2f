// The image commands of `moby` as a user types them, against a real assembly
// booted by moby-init (container-store, container-runtime, image-store) and a
// real docker-registry: pull, images, run IMAGE [COMMAND...], tag, image
// export and import, rmi.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scratchDirectory } from "../support/component-process.js";
import { ImageRegistry } from "../support/image-registry.js";
import { busyboxLayer, buildImage, pushImage, tarOf } from "../support/test-images.js";
import { Init, cid, component, moby, ok, skipContainers } from "./moby-assembly.js";

describe("moby's image commands", { skip: skipContainers }, () => {
  const scratch = scratchDirectory("moby-cli-img-");
  const registry = new ImageRegistry(join(scratch.dir, "registry"));
  const init = new Init(scratch.dir, {
    "container-store": component("packages/container-store/bin/moby-container-store.js", { services: ["moby.container.store.v1.ContainerStoreService"] }),
    "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
      services: ["moby.container.runtime.v1.ContainerRuntimeService"],
      requires: ["container-store"],
    }),
    "image-store": component("packages/image-store/bin/moby-image-store.js", { services: ["moby.image.v1.ImageService"] }),
  });
  let reference = "";

  before(async () => {
    mkdirSync(join(scratch.dir, "registry"), { recursive: true });
    await registry.start();
    const image = buildImage([await busyboxLayer(), await tarOf([{ name: "etc/motd", content: "from the image\n" }])], { Cmd: ["sh", "-c", "cat /etc/motd"], Env: ["PATH=/bin"] });
    await pushImage(registry, "demo/motd", "1", image);
    reference = `${registry.host}/demo/motd:1`;
    await init.boot();
  });

  after(async () => {
    try {
      await init.stopCleanly();
    } finally {
      await registry.stop();
      scratch.remove();
    }
  });

  it("pulls with a line per layer, lists, runs the image's Cmd or the command given, tags, exports, imports and removes", async () => {
    const pulled = await ok(init.runDir, "pull", reference);
    assert.match(pulled.stdout, /: Pull complete\n/);
    assert.match(pulled.stdout, new RegExp(`Pulled: ${reference.replace(/[.]/g, "\\.")}\n`));
    assert.equal((await ok(init.runDir, "pull", "-q", reference)).stdout, `${reference}\n`);
    const table = (await ok(init.runDir, "images")).stdout;
    assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(table, new RegExp(`${registry.host.replace(/[.]/g, "\\.")}/demo/motd\\s+1\\s+[0-9a-f]{12}\\s`));
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-cmd"), reference)).stdout, "from the image\n");
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-args"), reference, "echo", "given")).stdout, "given\n");
    await ok(init.runDir, "tag", reference, "demo/motd:copy");
    const names = (await ok(init.runDir, "images", "--json")).stdout.trim().split("\n").map((line) => (JSON.parse(line) as { name: string }).name);
    assert.deepEqual(names.sort(), ["docker.io/demo/motd:copy", reference].sort());
    const archive = join(scratch.dir, "motd.tar");
    await ok(init.runDir, "image", "export", "-o", archive, "demo/motd:copy");
    assert.ok(existsSync(archive));
    await ok(init.runDir, "rmi", reference, "demo/motd:copy");
    assert.equal((await ok(init.runDir, "images", "--json")).stdout, "");
    assert.equal((await ok(init.runDir, "image", "import", archive)).stdout, "Loaded image: docker.io/demo/motd:copy\n");
    assert.equal((await ok(init.runDir, "run", "--rm", "--name", cid("img-imported"), "demo/motd:copy")).stdout, "from the image\n");
    const missing = await moby(init.runDir, "run", "--rm", "no/such:image");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not in the image store: pull it first/);
    await ok(init.runDir, "rmi", "demo/motd:copy");
  });
});
