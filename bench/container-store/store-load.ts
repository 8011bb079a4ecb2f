/**
 * The loads of the container-store benchmarks, run in a client runner
 * process, for both peers: the container store (CreateContainer,
 * GetContainer, ListContainers pages; and filling it with a population) and
 * the SDK echo server it is compared with (a 16-byte Echo: the empty RPC).
 */
import { dialSocket } from "@moby-core/sdk";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { closedLoop, runClosedLoop } from "../support/call-load.js";
import type { Call, ClosedLoop } from "../support/call-load.js";
import type { Measurement } from "../support/paired-benchmark.js";
import { dialSdk } from "../rpc/sdk-peer.js";
import { benchContainer, freshId, populationId } from "./store-records.js";

/** The echo payload of the baseline, in bytes: the same as the rpc group's unary cases. */
export const ECHO_PAYLOAD_BYTES = 16;

/** The page size of ListContainers. */
export const LIST_PAGE_SIZE = 100;

/** The operations measured. */
export type StoreOperation = "create" | "get" | "list";

/** One request to a client runner. */
export type StoreLoadRequest =
  | ({ kind: "measure"; operation: StoreOperation; /** Containers populationId(0..population-1) exist (for get). */ population: number } & ClosedLoop)
  | { kind: "populate"; /** Creates populationId(from..from+count-1). */ from: number; count: number; inFlight: number };

/** What populate reports. */
export interface PopulateResult {
  created: number;
  elapsedMs: number;
  rate: number;
}

/** A peer's side: one call of each operation. */
export interface StorePeerClient {
  call(operation: StoreOperation, population: number): Call;
  close(): void;
}

/** A unique prefix for the ids this process creates during the rounds. */
const FRESH_PREFIX = `${process.pid}-${Date.now()}`;

/** The container store's client, on one connection. */
export function storePeer(socketPath: string): StorePeerClient & { populate(from: number, count: number, inFlight: number): Promise<PopulateResult> } {
  const connection = dialSocket(socketPath);
  const store = connection.client(ContainerStoreService);
  let fresh = 0;
  /** Per worker slot: the page token of its listing, which runs through the store and starts again at the end. */
  const pageTokens: string[] = [];
  const create = async (id: string, n: number) => {
    const { container } = await store.createContainer({ container: benchContainer(id, n) });
    if (container?.id !== id || container.revision === 0n) throw new Error(`create of ${id} answered ${container?.id} at revision ${container?.revision}`);
    return 1;
  };
  return {
    call(operation, population) {
      switch (operation) {
        case "create":
          return () => {
            const n = fresh++;
            return create(freshId(FRESH_PREFIX, n), n);
          };
        case "get":
          if (population < 1) throw new Error("get needs a population");
          return async () => {
            const id = populationId(Math.floor(Math.random() * population));
            const { container } = await store.getContainer({ id });
            if (container?.id !== id) throw new Error(`get of ${id} answered ${container?.id}`);
            return 1;
          };
        case "list":
          return async (slot) => {
            const response = await store.listContainers({ pageSize: LIST_PAGE_SIZE, pageToken: pageTokens[slot] ?? "" });
            if (response.containers.length === 0 && response.nextPageToken !== "") throw new Error("an empty page before the end");
            pageTokens[slot] = response.nextPageToken;
            return 1;
          };
      }
    },
    async populate(from, count, inFlight) {
      let next = from;
      const r = await closedLoop(
        () => {
          const n = next++;
          return create(populationId(n), n);
        },
        inFlight,
        0,
        { calls: count },
      );
      return { created: r.units, elapsedMs: r.elapsedMs, rate: r.rate };
    },
    close() {
      connection.close();
    },
  };
}

/** The SDK echo server's client: every operation is a 16-byte Echo. */
export function echoPeer(socketPath: string): StorePeerClient {
  const echo = dialSdk(socketPath);
  const payload = new Uint8Array(ECHO_PAYLOAD_BYTES).fill(0x61);
  const call: Call = async () => {
    const answer = await echo.echo(payload);
    if (answer.byteLength !== payload.byteLength) throw new Error(`echo answered ${answer.byteLength} bytes, sent ${payload.byteLength}`);
    return 1;
  };
  return {
    call: () => call,
    close() {
      echo.close();
    },
  };
}

/** Runs one measurement of operation against peer. */
export async function measureStoreLoad(peer: StorePeerClient, request: Extract<StoreLoadRequest, { kind: "measure" }>): Promise<Measurement> {
  const r = await runClosedLoop(peer.call(request.operation, request.population), request);
  return { rate: r.rate, extra: { p50Us: r.p50Us, p99Us: r.p99Us, clientCpuUs: r.clientCpuUs, serverCpuUs: r.serverCpuUs } };
}
