/**
 * The store-backends benchmarks (issue 15): the container store on etcd and
 * on SQLite side by side, each through its gRPC API on a unix socket, and a
 * direct etcd3 client doing the same operations on the same etcd member
 * (put, get, watch of keys of its own): the store on etcd against etcd
 * alone (goal: at least 0.7x); and a relay (bench/relay), a component that
 * only passes the direct peer's calls on to etcd: the least a component in
 * front of etcd can cost, the ceiling of the store's ratio. CreateContainer, GetContainer at 64 and at 1
 * in flight, and the replay of 1,000 changes by a watch. One etcd member
 * (Debian's etcd 3.4, its data on the same disk as SQLite's), started for
 * the group; each peer is filled with its own population first. Servers and
 * client runners are child processes, started once; peers alternate round
 * by round, with the same rounds as the container-store group.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchChild, stopAll } from "../support/child-process.js";
import { EtcdServer } from "../support/etcd-server.js";
import { JsonLineChild } from "../support/json-lines.js";
import { runPairedRounds, unmeasured } from "../support/paired-benchmark.js";
import type { PairedCase } from "../support/paired-benchmark.js";
import type { BenchmarkResult } from "../support/results.js";
import { WATCH_CHANGES } from "./backend-load.js";
import type { BackendLoadRequest, BackendOperation, BackendPopulateResult } from "./backend-load.js";
import type { StoreSettings } from "./store-benchmark.js";
import type { Measurement } from "../support/paired-benchmark.js";

/** The peers, in the order of the table's rows. */
const PEERS = ["store-etcd", "relay", "etcd3", "store-sqlite"] as const;
type Peer = (typeof PEERS)[number];
const BASELINE: Peer = "etcd3";
/** Every peer is also compared with the relay: how far it is from the least a component costs. */
const ALSO_AGAINST: readonly Peer[] = ["relay"];

const PEER_DESCRIPTIONS: Record<Peer, string> = {
  "store-etcd": "the container store (built) with config.backend etcd, on the etcd member, through its gRPC API on a unix socket (SDK client)",
  relay: "bench/relay/relay-main.ts etcd: an SDK component (serveComponent) whose handlers make the direct peer's etcd3 calls, configured as it does, on keys of its own, and answer the bytes, through its gRPC API on a unix socket (SDK client)",
  etcd3: "a direct etcd3 1.1.2 client (grpc-js) doing the same operations on the same etcd member, on keys of its own: put, range, watch",
  "store-sqlite": "the container store (built) with its default SQLite backend (WAL, synchronous=FULL), through its gRPC API on a unix socket",
};

/** The most records each peer is filled with (etcd takes creates one durable write at a time). */
const MAX_RECORDS = 20_000;
/** Creates kept in flight while filling. */
const POPULATE_IN_FLIGHT = 64;

/** One case. */
export interface BackendCase extends PairedCase {
  operation: BackendOperation;
  inFlight: number;
}

const TITLES: Record<BackendOperation, string> = {
  create: "CreateContainer of a new ~1.3 KB record, durable before the answer (etcd3: a put of the same encoded record)",
  get: "GetContainer of a random record of the population (etcd3: a range of one key)",
  watch: `a watch from before the population, read until ${WATCH_CHANGES.toLocaleString("en-US")} changes arrived (WatchContainers; etcd3: a watch of its prefix)`,
};
const UNITS: Record<BackendOperation, string> = { create: "creates/s", get: "gets/s", watch: "changes/s" };

function backendCase(operation: BackendOperation, inFlight: number): BackendCase {
  return {
    name: `backend-${operation}-${inFlight}`,
    title: `${TITLES[operation]}, ${inFlight} in flight, store on etcd vs etcd3 direct, and the store on SQLite`,
    unit: UNITS[operation],
    operation,
    inFlight,
    latencyRatios: inFlight === 1,
    settings: { operation, inFlight, ...(operation === "watch" ? { changesPerWatch: WATCH_CHANGES } : {}) },
    notes: [
      "Ratios against etcd3: the store on etcd goal is >= 0.7x; the SQLite row is shown for comparison (its own goals are in the container-store group).",
      "relay: a component that only passes the etcd3 calls on; its ratio against etcd3 is the most any component in front of etcd reaches here, and vs relay is how far each peer is from it.",
      ...(operation === "create" ? ["The store on etcd writes in one transaction: a compare on the key's version, the record, and its revision key."] : []),
      ...(operation === "get" ? ["The store reads linearizably (a quorum read), as etcd3's range does by default."] : []),
    ],
  };
}

/** The cases, in the order they are run and printed. */
export const BACKEND_CASES: readonly BackendCase[] = [
  backendCase("create", 64),
  backendCase("get", 64),
  backendCase("watch", 1),
  backendCase("create", 1),
  backendCase("get", 1),
];

/** Runs the selected cases; log receives progress lines. */
export async function runBackendBenchmarks(cases: readonly BackendCase[], settings: StoreSettings, log: (line: string) => void): Promise<BenchmarkResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "moby-bench-backends-"));
  const servers: BenchChild[] = [];
  const clients = new Map<Peer, JsonLineChild>();
  const pids = new Map<Peer, number>();
  let etcd: EtcdServer | undefined;
  const isolated = { MOBY_RUN_DIR: dir, MOBY_REGISTRY_ENDPOINT: "" };
  const records = Math.min(settings.records, MAX_RECORDS);
  try {
    try {
      etcd = await EtcdServer.start(join(dir, "etcd"));
      const store = (name: string, config: Record<string, unknown>) => {
        const socket = join(dir, `${name}.sock`);
        const child = BenchChild.node(name, "packages/container-store/bin/moby-container-store.js", {
          env: {
            ...isolated,
            MOBY_SOCKET: socket,
            MOBY_COMPONENT_NAME: "container-store",
            MOBY_ENDPOINT_EVENTS: join(dir, "no-events.sock"),
            MOBY_COMPONENT_CONFIG: JSON.stringify(config),
          },
        });
        servers.push(child);
        return { child, socket };
      };
      const onEtcd = store("store-etcd", { backend: "etcd", etcd: { endpoints: [etcd.endpoint], prefix: "/bench-store/" } });
      const onSqlite = store("store-sqlite", { database: join(dir, "state", "containers.db") });
      const relaySocket = join(dir, "relay.sock");
      const relay = BenchChild.node("relay", "bench/relay/relay-main.ts", { tsx: true, args: ["etcd", relaySocket, etcd.endpoint], env: isolated });
      servers.push(relay);
      await Promise.all([onEtcd.child.waitForSocket(onEtcd.socket), onSqlite.child.waitForSocket(onSqlite.socket), relay.waitForSocket(relaySocket)]);
      pids.set("store-etcd", onEtcd.child.pid);
      pids.set("store-sqlite", onSqlite.child.pid);
      pids.set("relay", relay.pid);
      pids.set("etcd3", etcd.pid);
      const runner = (label: string, args: string[]) => new JsonLineChild(label, "bench/container-store/backend-client-main.ts", { tsx: true, args, env: isolated });
      clients.set("store-etcd", runner("store-etcd client", ["store", onEtcd.socket]));
      clients.set("store-sqlite", runner("store-sqlite client", ["store", onSqlite.socket]));
      clients.set("relay", runner("relay client", ["relay", relaySocket]));
      clients.set("etcd3", runner("etcd3 client", ["etcd3", etcd.endpoint]));
      for (const peer of PEERS) {
        const filled = await clients.get(peer)!.request<BackendPopulateResult>({ kind: "populate", from: 0, count: records, inFlight: POPULATE_IN_FLIGHT } satisfies BackendLoadRequest);
        log(`${peer}: ${filled.created.toLocaleString("en-US")} records in ${(filled.elapsedMs / 1000).toFixed(1)} s (${Math.round(filled.rate)} creates/s)`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  store-backends group not measured: ${message.split("\n")[0]}`);
      return unmeasured(cases, PEERS, settings.rounds, message);
    }
    return await runPairedRounds({
      peers: PEERS,
      baseline: BASELINE,
      alsoAgainst: ALSO_AGAINST,
      cases,
      settings,
      log,
      measure: (peer, c, timing) =>
        clients.get(peer as Peer)!.request<Measurement>({
          kind: "measure",
          operation: c.operation,
          population: records,
          inFlight: c.inFlight,
          ...timing,
          // The etcd3 peer's server is etcd itself.
          serverPid: pids.get(peer as Peer)!,
        } satisfies BackendLoadRequest),
      commonSettings: {
        population: records,
        etcd: "one member, Debian etcd 3.4, default settings, data in the run's temporary directory",
        transport: "store peers: unix socket, gRPC over HTTP/2 (SDK client); store to etcd and etcd3 to etcd: gRPC over TCP on 127.0.0.1",
        peers: PEER_DESCRIPTIONS,
      },
    });
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await stopAll(servers);
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
