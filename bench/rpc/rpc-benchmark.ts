/**
 * The RPC benchmarks: every peer's server in its own process, every peer's
 * client runner in its own process, all started once; then round by round,
 * case by case, each peer measured once in a rotating order. Reports the
 * median over rounds and paired ratios against grpc-js and raw http2.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchChild, stopAll } from "../support/child-process.js";
import { JsonLineChild } from "../support/json-lines.js";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { median, pairedRatio, relativeSpread } from "../support/stats.js";
import type { RpcCase } from "./cases.js";
import type { LoadRequest, LoadResult } from "./load.js";
import { PEER_DESCRIPTIONS, RPC_PEERS } from "./peers.js";
import type { RpcPeer } from "./peers.js";

/** How long and how often each case is measured. */
export interface RpcSettings {
  /** Rounds: each peer is measured once per round and case. */
  rounds: number;
  /** The counted load of one measurement, in ms. */
  durationMs: number;
  /** The uncounted load before each measurement, in ms. */
  warmupMs: number;
  /** The uncounted load before a peer's first measurement of a case (JIT, connection), in ms. */
  firstWarmupMs: number;
}

/** The peers ratios are computed against. */
export const RPC_BASELINES: readonly RpcPeer[] = ["grpc-js", "http2", "grpc-thin", "sdk-unmetered"];

/** The samples of one case. */
interface CaseSamples {
  rate: RoundSamples<RpcPeer>;
  p50Us: RoundSamples<RpcPeer>;
  p99Us: RoundSamples<RpcPeer>;
  clientCpuUs: RoundSamples<RpcPeer>;
  serverCpuUs: RoundSamples<RpcPeer>;
  errors: Map<RpcPeer, string[]>;
}

/** Starts every peer's server, in parallel, and waits for their sockets. */
async function startServers(dir: string, servers: Map<RpcPeer, BenchChild>): Promise<Map<RpcPeer, string>> {
  const sockets = new Map<RpcPeer, string>();
  for (const peer of RPC_PEERS) {
    const socketPath = join(dir, `${peer}.sock`);
    servers.set(peer, BenchChild.node(`${peer} server`, "bench/rpc/server-main.ts", { tsx: true, args: [peer, socketPath] }));
    sockets.set(peer, socketPath);
  }
  await Promise.all(RPC_PEERS.map((peer) => servers.get(peer)!.waitForSocket(sockets.get(peer)!)));
  return sockets;
}

/** Builds a case's result from its samples. */
function summarise(rpcCase: RpcCase, samples: CaseSamples, settings: RpcSettings): BenchmarkResult {
  const peers: PeerResult[] = RPC_PEERS.map((peer) => {
    const measured = samples.rate.measured(peer);
    const ratios: Record<string, number> = {};
    for (const baseline of RPC_BASELINES) ratios[baseline] = pairedRatio(samples.rate.of(peer), samples.rate.of(baseline));
    const extra: Record<string, number> = {};
    if (rpcCase.latency) {
      extra["p50Us"] = median(samples.p50Us.measured(peer));
      extra["p99Us"] = median(samples.p99Us.measured(peer));
    }
    extra["clientCpuUs"] = median(samples.clientCpuUs.measured(peer));
    extra["serverCpuUs"] = median(samples.serverCpuUs.measured(peer));
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: samples.rate.of(peer).map((v) => v ?? null),
      ratios,
      extra,
      errors: samples.errors.get(peer) ?? [],
    };
  });
  return {
    name: rpcCase.name,
    title: rpcCase.title,
    unit: rpcCase.unit,
    higherIsBetter: true,
    rounds: settings.rounds,
    settings: {
      kind: rpcCase.kind,
      inFlight: rpcCase.inFlight,
      ...(rpcCase.kind === "unary" ? { payloadBytes: rpcCase.payloadBytes } : { streamCount: rpcCase.streamCount, streamSize: rpcCase.streamSize }),
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
      transport: "unix socket, HTTP/2 cleartext, client and server in separate processes",
      peers: PEER_DESCRIPTIONS,
    },
    peers,
  };
}

/** Runs the given cases over all peers; log receives one progress line per measurement. */
export async function runRpcBenchmarks(cases: readonly RpcCase[], settings: RpcSettings, log: (line: string) => void): Promise<BenchmarkResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "moby-bench-rpc-"));
  const servers = new Map<RpcPeer, BenchChild>();
  const clients = new Map<RpcPeer, JsonLineChild>();
  const all = new Map<string, CaseSamples>();
  for (const c of cases) {
    all.set(c.name, {
      rate: new RoundSamples(RPC_PEERS, settings.rounds),
      p50Us: new RoundSamples(RPC_PEERS, settings.rounds),
      p99Us: new RoundSamples(RPC_PEERS, settings.rounds),
      clientCpuUs: new RoundSamples(RPC_PEERS, settings.rounds),
      serverCpuUs: new RoundSamples(RPC_PEERS, settings.rounds),
      errors: new Map(),
    });
  }
  try {
    const sockets = await startServers(dir, servers);
    for (const peer of RPC_PEERS) {
      clients.set(peer, new JsonLineChild(`${peer} client`, "bench/rpc/client-main.ts", { tsx: true, args: [peer, sockets.get(peer)!] }));
    }
    const warmed = new Set<string>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, rpcCase] of cases.entries()) {
        const samples = all.get(rpcCase.name)!;
        const line: string[] = [];
        for (const peer of roundOrder(RPC_PEERS, round + index)) {
          const key = `${peer}/${rpcCase.name}`;
          const request: LoadRequest = {
            case: rpcCase,
            warmupMs: warmed.has(key) ? settings.warmupMs : settings.firstWarmupMs,
            durationMs: settings.durationMs,
            serverPid: servers.get(peer)!.pid,
          };
          warmed.add(key);
          try {
            const result = await clients.get(peer)!.request<LoadResult>(request);
            samples.rate.set(peer, round, result.rate);
            samples.p50Us.set(peer, round, result.p50Us);
            samples.p99Us.set(peer, round, result.p99Us);
            samples.clientCpuUs.set(peer, round, result.clientCpuUs);
            if (Number.isFinite(result.serverCpuUs)) samples.serverCpuUs.set(peer, round, result.serverCpuUs);
            line.push(`${peer} ${Math.round(result.rate)}`);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            samples.errors.set(peer, [...(samples.errors.get(peer) ?? []), message]);
            line.push(`${peer} FAILED`);
            log(`  ${peer} failed in round ${round + 1} of ${rpcCase.name}: ${message.split("\n")[0]}`);
          }
        }
        log(`round ${round + 1}/${settings.rounds}  ${rpcCase.name.padEnd(11)}  ${line.join("  ")} ${rpcCase.unit}`);
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await stopAll(servers.values());
    await rm(dir, { recursive: true, force: true });
  }
  return cases.map((c) => summarise(c, all.get(c.name)!, settings));
}
