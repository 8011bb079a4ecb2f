// A container made from an image, end to end with real parts: docker-registry,
// image-store, container-store and container-runtime as child processes, runc.
// The record names the image and its spec no root filesystem: the runtime
// asks image-store for the root filesystem at create, fills the process from
// the image's config as docker run does, and gives the root filesystem back
// at delete.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { ImageService } from "@moby-core/image-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { buildOciSpec, packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { ImageRegistry } from "../support/image-registry.js";
import { busyboxLayer, buildImage, pushImage, tarOf } from "../support/test-images.js";

const scratch = scratchDirectory("moby-ci-");
const canRun = process.getuid?.() === 0 && existsSync("/usr/sbin/runc");

describe("a container from an image", { skip: canRun ? false : "needs root and runc" }, () => {
  const registry = new ImageRegistry(join(scratch.dir, "registry"));
  const processes: ComponentProcess[] = [];
  const connections: Connection[] = [];
  const sockets = { images: join(scratch.dir, "is.sock"), store: join(scratch.dir, "cs.sock"), runtime: join(scratch.dir, "rt.sock") };
  const noEvents = join(scratch.dir, "no-events.sock");
  let reference = "";

  before(async () => {
    mkdirSync(join(scratch.dir, "registry"), { recursive: true });
    await registry.start();
    const app = await tarOf([
      { name: "app/", type: "directory" },
      { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n" },
    ]);
    const image = buildImage([await busyboxLayer(), app], {
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ['test "$GREETING" = hello && test "$(pwd)" = /app && test "$(id -u)" = 1000 && grep -q one /etc/hello'],
      Env: ["PATH=/bin", "GREETING=hello"],
      WorkingDir: "/app",
      User: "app",
    });
    await pushImage(registry, "test/app", "1", image);
    reference = `${registry.host}/test/app:1`;
    const start = async (script: string, socket: string, env: Record<string, string>) => {
      const child = new ComponentProcess(script, { MOBY_SOCKET: socket, MOBY_LOG_LEVEL: "warn", MOBY_REGISTRY_ENDPOINT: "", MOBY_ENDPOINT_EVENTS: noEvents, ...env });
      processes.push(child);
      await child.waitForSocket(socket);
    };
    await start("packages/image-store/bin/moby-image-store.js", sockets.images, { MOBY_COMPONENT_NAME: "image-store", MOBY_COMPONENT_CONFIG: JSON.stringify({ root: join(scratch.dir, "images") }) });
    await start("packages/container-store/bin/moby-container-store.js", sockets.store, { MOBY_COMPONENT_NAME: "container-store", MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(scratch.dir, "containers.db") }) });
    await start("packages/container-runtime/bin/moby-container-runtime.js", sockets.runtime, {
      MOBY_COMPONENT_NAME: "container-runtime",
      MOBY_RUN_DIR: join(scratch.dir, "run"),
      MOBY_ENDPOINT_CONTAINER_STORE: sockets.store,
      MOBY_ENDPOINT_IMAGE_STORE: sockets.images,
    });
    const runtime = dialSocket(sockets.runtime, { retry: false });
    connections.push(runtime);
    await runtime.waitForHealthy(ContainerRuntimeService.typeName, 20_000);
  });

  after(async () => {
    connections.forEach((c) => c.close());
    for (const child of processes.reverse()) await child.stop("SIGKILL");
    await registry.stop();
    for (const path of readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(scratch.dir)).reverse()) {
      execFileSync("umount", ["-l", path]);
    }
    scratch.remove();
  });

  function client<S extends typeof ImageService | typeof ContainerStoreService | typeof ContainerRuntimeService>(service: S, socket: string) {
    const connection = dialSocket(socket);
    connections.push(connection);
    return connection.client(service);
  }

  /** A spec as `moby run IMAGE` writes it: no root, user, cwd or env of its own. */
  function imageSpec(args: string[]) {
    const spec = buildOciSpec({ rootfs: "/", args: ["placeholder"] }) as unknown as Record<string, Record<string, unknown>>;
    delete spec.root;
    delete spec.process!.user;
    delete spec.process!.cwd;
    spec.process!.env = [];
    spec.process!.args = args;
    return packOciSpec(new TextEncoder().encode(JSON.stringify(spec)));
  }

  async function runToExit(id: string, args: string[]): Promise<number> {
    await client(ContainerStoreService, sockets.store).createContainer({ container: create(ContainerSchema, { id, image: reference, runtime: { name: "runc" }, spec: imageSpec(args) }) });
    const runtime = client(ContainerRuntimeService, sockets.runtime);
    await runtime.createTask({ containerId: id });
    await runtime.startTask({ containerId: id });
    const { exitStatus } = await runtime.waitTask({ containerId: id });
    await runtime.deleteTask({ containerId: id });
    return exitStatus?.exitCode ?? -1;
  }

  it("runs the image's Entrypoint and Cmd with its Env, WorkingDir and User, and gives the root filesystem back at delete", async () => {
    const images = client(ImageService, sockets.images);
    for await (const message of images.pullImage({ reference })) void message;
    assert.equal(await runToExit("from-image", []), 0, "the image's Cmd saw its env, working directory, user and files");
    assert.equal((await images.releaseRootfs({ containerId: "from-image" })).released, false, "deleteTask released it");
    assert.equal(existsSync(join(scratch.dir, "images", "rootfs", "from-image")), false);
    assert.equal(await runToExit("with-args", ["exit 7"]), 7, "the spec's args replace Cmd and follow the Entrypoint");
  });
});
