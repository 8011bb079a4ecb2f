/**
 * The image pull benchmark: one multi-layer image (layers of incompressible
 * bytes) pulled from a local docker-registry by the image-store component
 * (PullImage: download, verify, unpack, record; then DeleteImage frees it all
 * so every round starts empty) and by `skopeo copy` of the same image to a
 * fresh local directory (download and verify, no unpack), alternating round
 * by round. The value is the rate of compressed bytes pulled, MB/s; the goal
 * is image-store >= 0.8x skopeo.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImageService } from "@moby-core/image-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { ImageRegistry } from "../../test/support/image-registry.js";
import { buildImage, pushImage, tarOf } from "../../test/support/test-images.js";
import { BenchChild } from "../support/child-process.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { median, pairedRatio, relativeSpread } from "../support/stats.js";
import type { BenchmarkResult } from "../support/results.js";

const run = promisify(execFile);

/** The benchmark's name. */
export const PULL_BENCHMARK = "image-pull";
const PEERS = ["image-store", "skopeo"] as const;
type Peer = (typeof PEERS)[number];

/** How the pull benchmark runs. */
export interface PullSettings {
  rounds: number;
  /** Layers of the image. */
  layers: number;
  /** Bytes of each layer's one file (random, so compressed size is about the same). */
  layerBytes: number;
}

/** Runs the pull benchmark. */
export async function runPullBenchmark(settings: PullSettings, log: (line: string) => void): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), "moby-bench-pull-"));
  mkdirSync(join(dir, "registry"));
  const registry = new ImageRegistry(join(dir, "registry"));
  let store: BenchChild | undefined;
  const connection = { close: () => undefined } as { close(): void };
  try {
    await registry.start();
    const tars = [];
    for (let i = 0; i < settings.layers; i++) tars.push(await tarOf([{ name: `layer-${i}.bin`, content: randomBytes(settings.layerBytes) }]));
    const image = buildImage(tars);
    await pushImage(registry, "bench/pull", "1", image);
    const bytes = [...image.blobs.values()].reduce((sum, b) => sum + b.byteLength, 0) + image.manifest.byteLength;
    const reference = `${registry.host}/bench/pull:1`;
    const socket = join(dir, "is.sock");
    store = BenchChild.node("image-store", "packages/image-store/bin/moby-image-store.js", {
      env: { MOBY_SOCKET: socket, MOBY_COMPONENT_NAME: "image-store", MOBY_LOG_LEVEL: "warn", MOBY_REGISTRY_ENDPOINT: "", MOBY_ENDPOINT_EVENTS: join(dir, "no-events.sock"), MOBY_COMPONENT_CONFIG: JSON.stringify({ root: join(dir, "store") }) },
    });
    await store.waitForSocket(socket);
    const conn = dialSocket(socket);
    connection.close = () => conn.close();
    const client = conn.client(ImageService);
    const pullers: Record<Peer, () => Promise<number>> = {
      "image-store": async () => {
        const started = performance.now();
        for await (const message of client.pullImage({ reference }, { timeoutMs: 0 })) void message;
        const ms = performance.now() - started;
        await client.deleteImage({ name: reference });
        return ms;
      },
      skopeo: async () => {
        const target = join(dir, `skopeo-${randomBytes(4).toString("hex")}`);
        const started = performance.now();
        await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${reference}`, `dir:${target}`]);
        const ms = performance.now() - started;
        rmSync(target, { recursive: true, force: true });
        return ms;
      },
    };
    const samples = new RoundSamples<Peer>(PEERS, settings.rounds);
    const errors: Record<Peer, string[]> = { "image-store": [], skopeo: [] };
    // One unmeasured pull each: caches and connections as in every later round.
    for (const peer of PEERS) await pullers[peer]();
    for (let round = 0; round < settings.rounds; round++) {
      for (const peer of roundOrder(PEERS, round)) {
        try {
          const ms = await pullers[peer]();
          samples.set(peer, round, bytes / 1e6 / (ms / 1000));
          log(`  ${PULL_BENCHMARK} round ${round + 1}: ${peer} ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`);
        } catch (error) {
          errors[peer].push((error as Error).message);
        }
      }
    }
    return {
      name: PULL_BENCHMARK,
      title: `pull of a ${settings.layers}-layer image (${(bytes / 1e6).toFixed(1)} MB) from a local docker-registry`,
      unit: "MB/s",
      higherIsBetter: true,
      rounds: settings.rounds,
      settings: { ...settings, bytes },
      notes: ["image-store: PullImage (download, verify, unpack into snapshots, record), then DeleteImage; skopeo: copy to a fresh dir: (download, verify). Goal: image-store >= 0.8x skopeo."],
      peers: PEERS.map((peer) => {
        const values = samples.measured(peer);
        return {
          peer,
          median: median(values),
          spread: relativeSpread(values),
          rounds: samples.of(peer).map((v) => v ?? null),
          ratios: { skopeo: pairedRatio(samples.of(peer), samples.of("skopeo")) },
          extra: {},
          errors: errors[peer],
        };
      }),
    };
  } finally {
    connection.close();
    await store?.stop("SIGKILL");
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
