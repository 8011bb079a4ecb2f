/**
 * The image lifecycle benchmark: a trivial container (`true`) created,
 * started, waited for and deleted through container-store and
 * container-runtime, from a busybox rootfs directory ("rootfs-dir", the
 * spec names it) and from the same files as a pulled image ("image": the
 * runtime asks image-store for an overlayfs root filesystem at create and
 * gives it back at delete), alternating round by round. The value is the
 * median ms per container; the goal is image <= 1.2x rootfs-dir.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { ImageService } from "@moby-core/image-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { buildOciSpec, packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { ImageRegistry } from "../../test/support/image-registry.js";
import { busyboxLayer, buildImage, pushImage } from "../../test/support/test-images.js";
import { BenchChild } from "../support/child-process.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { median, pairedRatio, relativeSpread } from "../support/stats.js";
import type { BenchmarkResult } from "../support/results.js";

/** The benchmark's name. */
export const IMAGE_LIFECYCLE = "image-lifecycle";
const PEERS = ["rootfs-dir", "image"] as const;
type Peer = (typeof PEERS)[number];

/** How the lifecycle benchmark runs. */
export interface ImageLifecycleSettings {
  rounds: number;
  /** Containers timed per peer and round. */
  containers: number;
}

/** Runs the lifecycle benchmark (root, runc and busybox-static needed). */
export async function runImageLifecycleBenchmark(settings: ImageLifecycleSettings, log: (line: string) => void): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), "moby-bench-imglc-"));
  mkdirSync(join(dir, "registry"));
  const registry = new ImageRegistry(join(dir, "registry"));
  const children: BenchChild[] = [];
  const connections: Connection[] = [];
  try {
    await registry.start();
    await pushImage(registry, "bench/busybox", "1", buildImage([await busyboxLayer()]));
    const reference = `${registry.host}/bench/busybox:1`;
    const rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
    const sockets = { images: join(dir, "is.sock"), store: join(dir, "cs.sock"), runtime: join(dir, "rt.sock") };
    const base = { MOBY_LOG_LEVEL: "warn", MOBY_REGISTRY_ENDPOINT: "", MOBY_ENDPOINT_EVENTS: join(dir, "no-events.sock") };
    const start = async (label: string, script: string, socket: string, env: NodeJS.ProcessEnv) => {
      const child = BenchChild.node(label, script, { env: { ...base, MOBY_SOCKET: socket, MOBY_COMPONENT_NAME: label, ...env } });
      children.push(child);
      await child.waitForSocket(socket);
    };
    await start("image-store", "packages/image-store/bin/moby-image-store.js", sockets.images, { MOBY_COMPONENT_CONFIG: JSON.stringify({ root: join(dir, "images") }) });
    await start("container-store", "packages/container-store/bin/moby-container-store.js", sockets.store, { MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(dir, "containers.db") }) });
    await start("container-runtime", "packages/container-runtime/bin/moby-container-runtime.js", sockets.runtime, {
      MOBY_RUN_DIR: join(dir, "run"),
      MOBY_ENDPOINT_CONTAINER_STORE: sockets.store,
      MOBY_ENDPOINT_IMAGE_STORE: sockets.images,
    });
    const dial = (socket: string) => {
      const connection = dialSocket(socket);
      connections.push(connection);
      return connection;
    };
    const runtimeConnection = dial(sockets.runtime);
    await runtimeConnection.waitForHealthy(ContainerRuntimeService.typeName, 30_000);
    const runtime = runtimeConnection.client(ContainerRuntimeService);
    const store = dial(sockets.store).client(ContainerStoreService);
    const images = dial(sockets.images).client(ImageService);
    for await (const message of images.pullImage({ reference }, { timeoutMs: 0 })) void message;

    const dirSpec = packOciSpec(buildOciSpec({ rootfs, args: ["true"] }));
    const imageDoc = buildOciSpec({ rootfs: "/", args: ["true"] }) as unknown as Record<string, unknown>;
    delete imageDoc.root;
    const imageSpec = packOciSpec(new TextEncoder().encode(JSON.stringify(imageDoc)));
    let serial = 0;
    const lifecycle = async (peer: Peer): Promise<number> => {
      const id = `bench-${peer === "image" ? "img" : "dir"}-${process.pid}-${serial++}`;
      const started = performance.now();
      await store.createContainer({ container: create(ContainerSchema, { id, image: peer === "image" ? reference : "", runtime: { name: "runc" }, spec: peer === "image" ? imageSpec : dirSpec }) });
      await runtime.createTask({ containerId: id });
      await runtime.startTask({ containerId: id });
      const { exitStatus } = await runtime.waitTask({ containerId: id }, { timeoutMs: 0 });
      await runtime.deleteTask({ containerId: id });
      await store.deleteContainer({ id });
      if (exitStatus?.exitCode !== 0) throw new Error(`container ${id} exited ${exitStatus?.exitCode}`);
      return performance.now() - started;
    };
    const samples = new RoundSamples<Peer>(PEERS, settings.rounds);
    const errors: Record<Peer, string[]> = { "rootfs-dir": [], image: [] };
    for (const peer of PEERS) await lifecycle(peer);
    for (let round = 0; round < settings.rounds; round++) {
      for (const peer of roundOrder(PEERS, round)) {
        try {
          const times: number[] = [];
          for (let i = 0; i < settings.containers; i++) times.push(await lifecycle(peer));
          samples.set(peer, round, median(times));
          log(`  ${IMAGE_LIFECYCLE} round ${round + 1}: ${peer} ${median(times).toFixed(1)} ms`);
        } catch (error) {
          errors[peer].push((error as Error).message);
        }
      }
    }
    return {
      name: IMAGE_LIFECYCLE,
      title: "container lifecycle from an image vs from a rootfs directory",
      unit: "ms",
      higherIsBetter: false,
      rounds: settings.rounds,
      settings: { ...settings },
      notes: ["create record, create task, start, wait, delete task, delete record of `true`; image: overlayfs root filesystem from image-store at create, released at delete. Goal: image <= 1.2x rootfs-dir."],
      peers: PEERS.map((peer) => ({
        peer,
        median: median(samples.measured(peer)),
        spread: relativeSpread(samples.measured(peer)),
        rounds: samples.of(peer).map((v) => v ?? null),
        ratios: { "rootfs-dir": pairedRatio(samples.of(peer), samples.of("rootfs-dir")) },
        extra: {},
        errors: errors[peer],
      })),
    };
  } finally {
    connections.forEach((c) => c.close());
    for (const child of children.reverse()) await child.stop("SIGKILL");
    await registry.stop();
    const mounts = existsSync("/proc/self/mountinfo") ? readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(dir)) : [];
    for (const path of mounts.reverse()) execFileSync("umount", ["-l", path]);
    rmSync(dir, { recursive: true, force: true });
  }
}
