/**
 * The loads of the store-backends benchmarks, run in a client runner
 * process, for each peer: the container store on etcd, the container store
 * on SQLite (both through their gRPC API on a unix socket), and a direct
 * etcd3 client on the same etcd cluster doing the same operations on keys
 * of its own (put, get, watch): what etcd alone costs.
 *
 * - create: a new record (CreateContainer; for etcd3 a put of the same
 *   encoded record under a new key).
 * - get: a random record of the population (GetContainer; a get).
 * - watch: a watch from the population's first write, read until
 *   WATCH_CHANGES changes have arrived, then cancelled: the replay of
 *   history (WatchContainers; an etcd watch of the prefix).
 */
import { toBinary } from "@bufbuild/protobuf";
import { Etcd3 } from "etcd3";
import type { IWatchResponse } from "etcd3";
import { dialSocket } from "@moby-core/sdk";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { RelayService } from "../gen/bench/v1/relay_pb.js";
import { closedLoop, runClosedLoop } from "../support/call-load.js";
import type { Call, ClosedLoop } from "../support/call-load.js";
import type { Measurement } from "../support/paired-benchmark.js";
import { benchContainer, freshId, populationId } from "./store-records.js";

/** The operations measured. */
export type BackendOperation = "create" | "get" | "watch";

/** The changes one watch call reads (at most the population). */
export const WATCH_CHANGES = 1000;

/** The key prefix of the direct etcd3 peer (the store on etcd uses its own). */
export const DIRECT_PREFIX = "/bench-direct/";

/** One request to a client runner. */
export type BackendLoadRequest =
  | ({ kind: "measure"; operation: BackendOperation; population: number } & ClosedLoop)
  | { kind: "populate"; from: number; count: number; inFlight: number };

/** What populate reports. */
export interface BackendPopulateResult {
  created: number;
  elapsedMs: number;
  rate: number;
}

/** A peer's side of the loads. */
export interface BackendPeer {
  call(operation: BackendOperation, population: number): Call;
  populate(from: number, count: number, inFlight: number): Promise<BackendPopulateResult>;
  close(): void;
}

/** A unique prefix for the ids this process creates during the rounds. */
const FRESH_PREFIX = `${process.pid}-${Date.now()}`;

/** Fills a population with create, inFlight at a time; tracks the lowest revision a create answered. */
async function fill(create: (id: string, n: number) => Promise<bigint>, from: number, count: number, inFlight: number, first: { revision: bigint }) {
  let next = from;
  const r = await closedLoop(
    async () => {
      const n = next++;
      const revision = await create(populationId(n), n);
      if (first.revision === 0n || revision < first.revision) first.revision = revision;
      return 1;
    },
    inFlight,
    0,
    { calls: count },
  );
  return { created: r.units, elapsedMs: r.elapsedMs, rate: r.rate };
}

/** How one peer makes each operation once. */
interface BackendCalls {
  /** Creates the record id (the n-th of its kind); resolves with the revision the write got. */
  create(id: string, n: number): Promise<bigint>;
  /** Reads the record id of the population; throws when it is not what was stored. */
  get(id: string): Promise<void>;
  /** Watches from after revision until wanted changes arrived, then cancels; resolves with the changes read. */
  watch(after: bigint, wanted: number): Promise<number>;
  close(): void;
}

/** A peer of the loads from its calls: fresh ids for creates, random population ids for gets, watches from the population's first write. */
function backendPeer(calls: BackendCalls): BackendPeer {
  const first = { revision: 0n };
  let fresh = 0;
  return {
    call(operation, population) {
      switch (operation) {
        case "create":
          return async () => {
            const n = fresh++;
            await calls.create(freshId(FRESH_PREFIX, n), n);
            return 1;
          };
        case "get":
          return async () => {
            await calls.get(populationId(Math.floor(Math.random() * population)));
            return 1;
          };
        case "watch": {
          const wanted = Math.min(WATCH_CHANGES, population - 1);
          return () => calls.watch(first.revision, wanted);
        }
      }
    },
    populate: (from, count, inFlight) => fill(calls.create, from, count, inFlight, first),
    close: () => calls.close(),
  };
}

/** The container store (either backend), through its socket. */
export function storePeer(socketPath: string): BackendPeer {
  const connection = dialSocket(socketPath);
  const store = connection.client(ContainerStoreService);
  return backendPeer({
    async create(id, n) {
      const { container } = await store.createContainer({ container: benchContainer(id, n) });
      if (container?.id !== id) throw new Error(`create of ${id} answered ${container?.id}`);
      return container.revision;
    },
    async get(id) {
      const { container } = await store.getContainer({ id });
      if (container?.id !== id) throw new Error(`get of ${id} answered ${container?.id}`);
    },
    async watch(after, wanted) {
      const abort = new AbortController();
      let changes = 0;
      // After the population's first write (start_revision 0 would mean "from now").
      for await (const message of store.watchContainers({ startRevision: after }, { signal: abort.signal })) {
        if (message.kind.case === "change" && ++changes >= wanted) break;
        if (message.kind.case === "progress" && changes > 0 && changes < wanted) throw new Error(`the replay ended after ${changes} changes`);
      }
      abort.abort();
      return changes;
    },
    close: () => connection.close(),
  });
}

/** A direct etcd3 client on the cluster, on keys of its own. */
export function directPeer(endpoints: string[]): BackendPeer {
  const client = new Etcd3({ hosts: endpoints });
  const key = (id: string) => Buffer.from(`${DIRECT_PREFIX}${id}`);
  const prefix = Buffer.from(DIRECT_PREFIX);
  const prefixEnd = Buffer.from(DIRECT_PREFIX.slice(0, -1) + String.fromCharCode(DIRECT_PREFIX.charCodeAt(DIRECT_PREFIX.length - 1) + 1));
  return backendPeer({
    async create(id, n) {
      const value = Buffer.from(toBinary(ContainerSchema, benchContainer(id, n)));
      const response = await client.kv.put({ key: key(id), value });
      return BigInt(response.header.revision);
    },
    async get(id) {
      const response = await client.kv.range({ key: key(id) });
      if (response.kvs.length !== 1) throw new Error(`get of ${id} found ${response.kvs.length} keys`);
    },
    async watch(after, wanted) {
      const stream = await client.watchClient.watch();
      let changes = 0;
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (response: IWatchResponse) => {
          changes += response.events.length;
          if (changes >= wanted) resolve();
        });
        stream.on("error", reject);
        stream.write({ create_request: { key: prefix, range_end: prefixEnd, start_revision: String(after + 1n), prev_kv: true } });
      });
      stream.end(); // first: etcd3 takes an error on a writable stream for a failed member
      stream.cancel();
      return changes;
    },
    close: () => client.close(),
  });
}

/**
 * The relay (bench/relay): the same etcd3 calls as the direct peer, made by
 * a component that only passes them on, through its gRPC API on a unix
 * socket: the least any component in front of etcd costs.
 */
export function relayPeer(socketPath: string): BackendPeer {
  const connection = dialSocket(socketPath);
  const relay = connection.client(RelayService);
  return backendPeer({
    async create(id, n) {
      return (await relay.put({ key: id, value: toBinary(ContainerSchema, benchContainer(id, n)) })).revision;
    },
    async get(id) {
      const { value } = await relay.get({ key: id });
      if (value.byteLength === 0) throw new Error(`get of ${id} answered no bytes`);
    },
    async watch(after, wanted) {
      const abort = new AbortController();
      let changes = 0;
      for await (const message of relay.watch({ startRevision: after }, { signal: abort.signal })) {
        if (!message.ready && ++changes >= wanted) break;
      }
      abort.abort();
      return changes;
    },
    close: () => connection.close(),
  });
}

/** Runs one measurement of operation against peer. */
export async function measureBackendLoad(peer: BackendPeer, request: Extract<BackendLoadRequest, { kind: "measure" }>): Promise<Measurement> {
  const r = await runClosedLoop(peer.call(request.operation, request.population), request);
  return { rate: r.rate, extra: { p50Us: r.p50Us, p99Us: r.p99Us, clientCpuUs: r.clientCpuUs, serverCpuUs: r.serverCpuUs } };
}
