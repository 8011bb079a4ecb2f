/**
 * The container-store benchmarks (issue 5): CreateContainer, GetContainer
 * and ListContainers throughput and latency of the container store (built,
 * packages/container-store/bin/moby-container-store.js, a fresh SQLite
 * file), each against an empty RPC (a 16-byte Echo) on the same SDK in the
 * same run, at the same concurrency; and the store's memory once it holds
 * the population (100,000 records by default), measured once per run.
 *
 * The store is filled first (the population, 64 creates in flight), its RSS
 * and database read, then the rounds run against the filled store: Get reads
 * random records of the population, List pages through it, Create adds new
 * records. Both servers and both client runners are child processes,
 * started once; peers alternate round by round.
 */
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDLE_COMPONENT } from "../init/boot-peer.js";
import { BenchChild, stopAll } from "../support/child-process.js";
import { JsonLineChild } from "../support/json-lines.js";
import { runPairedRounds, unmeasured } from "../support/paired-benchmark.js";
import type { Measurement, PairedCase, PairedSettings } from "../support/paired-benchmark.js";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { ECHO_PAYLOAD_BYTES, LIST_PAGE_SIZE } from "./store-load.js";
import type { PopulateResult, StoreLoadRequest, StoreOperation } from "./store-load.js";
import { SPEC_BYTES } from "./store-records.js";

/** The peers: the component, and the baseline. */
const PEERS = ["container-store", "sdk-echo"] as const;
type Peer = (typeof PEERS)[number];
const BASELINE: Peer = "sdk-echo";

const PEER_DESCRIPTIONS: Record<Peer, string> = {
  "container-store":
    "the container store (packages/container-store/bin/moby-container-store.js, built), default config, a fresh SQLite file (WAL, synchronous=FULL), no events component",
  "sdk-echo": `bench.v1.EchoService served by serveComponent (bench/rpc/server-main.ts sdk), a ${ECHO_PAYLOAD_BYTES}-byte Echo: the empty RPC`,
};

/** The settings of the group: the rounds', and the population. */
export interface StoreSettings extends PairedSettings {
  /** Records created before the rounds; the memory is measured with them. */
  records: number;
}

/** Creates kept in flight while filling the store. */
const POPULATE_IN_FLIGHT = 64;
/** Creates per populate request to the client runner (one progress line each). */
const POPULATE_CHUNK = 10_000;

/** The name of the memory benchmark. */
export const STORE_MEMORY = "store-memory";

/** One throughput or latency case. */
export interface StoreCase extends PairedCase {
  operation: StoreOperation;
  inFlight: number;
}

const OPERATION_TITLES: Record<StoreOperation, string> = {
  create: "CreateContainer (a new ~1.3 KB record, durable before the answer; concurrent creates share a commit)",
  get: "GetContainer (a random record of the population)",
  list: `ListContainers pages (page_size ${LIST_PAGE_SIZE}, no filter, each caller paging through the store)`,
};

const UNITS: Record<StoreOperation, string> = { create: "creates/s", get: "gets/s", list: "pages/s" };

function storeCase(operation: StoreOperation, inFlight: number): StoreCase {
  return {
    name: `store-${operation}-${inFlight}`,
    title: `${OPERATION_TITLES[operation]}, ${inFlight} in flight, vs ${ECHO_PAYLOAD_BYTES}-byte SDK Echo at ${inFlight} in flight`,
    unit: UNITS[operation],
    operation,
    inFlight,
    latencyRatios: inFlight === 1,
    settings: { operation, inFlight, echoPayloadBytes: ECHO_PAYLOAD_BYTES, specBytes: SPEC_BYTES, ...(operation === "list" ? { pageSize: LIST_PAGE_SIZE } : {}) },
    notes: [
      `container-store: ${UNITS[operation]}; sdk-echo: Echo calls/s.`,
      ...(inFlight === 1 ? ["p50/p99 vs sdk-echo: median of the per-round ratios of the latency; above 1 is slower than the empty RPC."] : []),
      ...(operation === "list" && inFlight > 1 ? ["8 in flight, not 64: a page of 100 records is ~140 KB, as the rpc group's 64 KiB case uses 8."] : []),
    ],
  };
}

/** The throughput and latency cases, in the order they are run and printed. */
export const STORE_CASES: readonly StoreCase[] = [
  storeCase("create", 64),
  storeCase("get", 64),
  storeCase("list", 8),
  storeCase("create", 1),
  storeCase("get", 1),
  storeCase("list", 1),
];

/** Every benchmark of the group, the memory first (it is measured first). */
export const STORE_BENCHMARKS: readonly string[] = [STORE_MEMORY, ...STORE_CASES.map((c) => c.name)];

/** The memory of a process from /proc/<pid>/status, in MiB: resident now and its peak; NaN when it cannot be read. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
      return match ? Number(match[1]) / 1024 : Number.NaN;
    };
    return { rss: field("VmRSS"), peak: field("VmHWM") };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

/** The size of a file in MiB; 0 when it does not exist. */
function fileMiB(path: string): number {
  try {
    return statSync(path).size / 2 ** 20;
  } catch {
    return 0;
  }
}

/** The memory table's baseline: an idle SDK component (no service of its own, plain JavaScript, no tsx). */
const MEMORY_BASELINE = "sdk-idle";

/** One row of the memory table. */
function memoryRow(peer: string, rss: number, baselineRss: number, extra: Record<string, number>): PeerResult {
  return { peer, median: rss, spread: 0, rounds: [Number.isFinite(rss) ? rss : null], ratios: { [MEMORY_BASELINE]: rss / baselineRss }, extra, errors: [] };
}

/** The memory result when it could not be measured. */
function unmeasuredMemory(title: string, message: string): BenchmarkResult {
  const [result] = unmeasured([{ name: STORE_MEMORY, title, unit: "MiB", latencyRatios: false, settings: {} }], ["container-store", MEMORY_BASELINE], 1, message);
  return { ...result!, higherIsBetter: false };
}

/** Runs the selected benchmarks of the group (memory and/or cases); log receives progress lines. */
export async function runStoreBenchmarks(
  selected: { memory: boolean; cases: readonly StoreCase[] },
  settings: StoreSettings,
  log: (line: string) => void,
): Promise<BenchmarkResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "moby-bench-store-"));
  const database = join(dir, "state", "containers.db");
  const servers = new Map<Peer, BenchChild>();
  const clients = new Map<Peer, JsonLineChild>();
  const sockets: Record<Peer, string> = { "container-store": join(dir, "store.sock"), "sdk-echo": join(dir, "echo.sock") };
  // No registry and no events component (a socket nothing listens on): the store's events queue, bounded, and are dropped.
  const isolated = { MOBY_RUN_DIR: dir, MOBY_REGISTRY_ENDPOINT: "" };
  const results: BenchmarkResult[] = [];
  let idleComponent: BenchChild | undefined;
  const memoryTitle = `RSS of the store after creating ${settings.records.toLocaleString("en-US")} records (${POPULATE_IN_FLIGHT} in flight), measured once`;
  try {
    try {
      servers.set(
        "container-store",
        BenchChild.node("container-store", "packages/container-store/bin/moby-container-store.js", {
          env: {
            ...isolated,
            MOBY_SOCKET: sockets["container-store"],
            MOBY_COMPONENT_NAME: "container-store",
            MOBY_ENDPOINT_EVENTS: join(dir, "no-events.sock"),
            MOBY_COMPONENT_CONFIG: JSON.stringify({ database }),
          },
        }),
      );
      servers.set("sdk-echo", BenchChild.node("sdk-echo server", "bench/rpc/server-main.ts", { tsx: true, args: ["sdk", sockets["sdk-echo"]], env: isolated }));
      await Promise.all(PEERS.map((peer) => servers.get(peer)!.waitForSocket(sockets[peer])));
      if (selected.memory) {
        const socket = join(dir, "idle.sock");
        idleComponent = BenchChild.node("sdk-idle", IDLE_COMPONENT, { env: { ...isolated, MOBY_SOCKET: socket, MOBY_COMPONENT_NAME: "sdk-idle" } });
        await idleComponent.waitForSocket(socket);
      }
    } catch (error) {
      // The store may not build or start yet: report every benchmark of the group as failed, keep the other groups' results.
      const message = error instanceof Error ? error.message : String(error);
      log(`  container-store group not measured: ${message.split("\n")[0]}`);
      const failed = unmeasured(selected.cases, PEERS, settings.rounds, message);
      if (selected.memory) {
        failed.unshift(unmeasuredMemory(memoryTitle, message));
      }
      return failed;
    }
    for (const peer of PEERS) {
      clients.set(peer, new JsonLineChild(`${peer} client`, "bench/container-store/client-main.ts", { tsx: true, args: [peer, sockets[peer]], env: isolated }));
    }
    const storePid = servers.get("container-store")!.pid;

    // The population, and the memory with it.
    const idle = memoryMiB(storePid);
    log(`container-store: creating ${settings.records.toLocaleString("en-US")} records, ${POPULATE_IN_FLIGHT} in flight...`);
    let population = 0;
    try {
      // In chunks, for progress lines; the in-flight window drains only at a chunk's end.
      let elapsedMs = 0;
      while (population < settings.records) {
        const count = Math.min(POPULATE_CHUNK, settings.records - population);
        const chunk = await clients
          .get("container-store")!
          .request<PopulateResult>({ kind: "populate", from: population, count, inFlight: POPULATE_IN_FLIGHT } satisfies StoreLoadRequest);
        population += chunk.created;
        elapsedMs += chunk.elapsedMs;
        log(`  ${population.toLocaleString("en-US")} records, ${Math.round((population / elapsedMs) * 1000)} creates/s, RSS ${memoryMiB(storePid).rss.toFixed(1)} MiB`);
      }
      const filled = { created: population, elapsedMs, rate: (population / elapsedMs) * 1000 };
      const after = memoryMiB(storePid);
      const floor = memoryMiB(idleComponent?.pid ?? 0);
      log(`container-store: ${filled.created} records in ${(filled.elapsedMs / 1000).toFixed(1)} s (${Math.round(filled.rate)} creates/s); RSS ${after.rss.toFixed(1)} MiB`);
      if (selected.memory) {
        results.push({
          name: STORE_MEMORY,
          title: memoryTitle,
          unit: "MiB",
          higherIsBetter: false,
          rounds: 1,
          settings: {
            records: settings.records,
            inFlight: POPULATE_IN_FLIGHT,
            specBytes: SPEC_BYTES,
            peers: { "container-store": PEER_DESCRIPTIONS["container-store"], [MEMORY_BASELINE]: "bench/init/idle-component.mjs: serveComponent with no service of its own" },
          },
          notes: [
            "MiB: VmRSS from /proc/<pid>/status right after the last create was acknowledged; idle: after start; peak: VmHWM.",
            "db/wal MiB: the database file and its WAL (the records, plus the change history WatchContainers replays: 100,000 changes by default).",
            "sdk-idle: an idle SDK component (bench/init/idle-component.mjs, no service of its own, started with the store), at the same moment: the floor of an SDK process.",
            "No events component: the store queues its /containers/create events (at most 10,000) and drops the oldest, as without one in an assembly.",
          ],
          peers: [
            memoryRow("container-store", after.rss, floor.rss, {
              idleRssMiB: idle.rss,
              peakRssMiB: after.peak,
              databaseMiB: fileMiB(database),
              walMiB: fileMiB(`${database}-wal`),
              createRate: filled.rate,
            }),
            memoryRow(MEMORY_BASELINE, floor.rss, floor.rss, { idleRssMiB: Number.NaN, peakRssMiB: floor.peak, databaseMiB: Number.NaN, walMiB: Number.NaN, createRate: Number.NaN }),
          ],
        });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  container-store: filling the store failed: ${message.split("\n")[0]}`);
      if (selected.memory) {
        results.push(unmeasuredMemory(memoryTitle, message));
      }
    }

    if (selected.cases.length > 0) {
      results.push(
        ...(await runPairedRounds({
          peers: PEERS,
          baseline: BASELINE,
          cases: selected.cases,
          settings,
          log,
          measure: (peer, c, timing) =>
            clients.get(peer as Peer)!.request<Measurement>({
              kind: "measure",
              operation: c.operation,
              population,
              inFlight: c.inFlight,
              ...timing,
              serverPid: servers.get(peer as Peer)!.pid,
            } satisfies StoreLoadRequest),
          commonSettings: {
            population,
            transport: "unix socket, gRPC over HTTP/2 (SDK on both sides), server and client in separate processes",
            peers: PEER_DESCRIPTIONS,
          },
        })),
      );
    }
    return results;
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await stopAll([...servers.values(), idleComponent]);
    await rm(dir, { recursive: true, force: true });
  }
}
